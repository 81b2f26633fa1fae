#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "coro/task_group.hpp"
#include "daemon/payer/payer_client.hpp"
#include "daemon/payer/token_manager.hpp"
#include "daemon/service/config.hpp"
#include "daemon/sync/repository.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "test_pki.hpp"
#include "tls_test_server.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Asks for a token on behalf of a FHIR call whose response was HTTP 401 for `rejected`.
bbsync::coro::awaitable<void> renew_after_401(
    bbsync::token_manager& tokens,
    std::int64_t patient_key,
    std::string rejected,
    std::vector<std::string>& seen
)
{
    auto token = co_await tokens.access_token(patient_key, rejected);
    seen.push_back(token ? *token : "failed: " + token.error().error_class);
}

bbsync::coro::awaitable<std::string> first_token(bbsync::token_manager& tokens, std::int64_t patient_key)
{
    auto token = co_await tokens.access_token(patient_key);
    co_return token ? *token : "failed: " + token.error().error_class;
}

bbsync::coro::awaitable<void> fifty_rejections(
    bbsync::token_manager& tokens,
    std::int64_t patient_key,
    std::string rejected,
    std::vector<std::string>& seen
)
{
    bbsync::coro::task_group group(co_await asio::this_coro::executor);
    for (int i = 0; i < 50; ++i)
    {
        group.spawn(renew_after_401(tokens, patient_key, rejected, seen));
    }
    co_await group.wait();
}

}  // namespace

TEST_CASE("50 concurrent 401s cause one token refresh", "[daemon][engine]")
{
    asio::io_context context;
    const auto& pki = bbsync::test::test_pki::shared();
    bbsync::test::tls_test_server payer(
        context.get_executor(), bbsync::test::make_tls_server_context(pki.valid())
    );
    int issued = 0;
    payer.respond_with([&issued](const bbsync::test::recorded_request& request) {
        bbsync::test::scripted_response response;
        if (request.method != "POST" || request.target != "/v2/o/token/")
        {
            response.status = 404;
            response.body = "{}";
            return response;
        }
        ++issued;
        response.headers = {{"Content-Type", "application/json"}};
        response.body = R"({"access_token": "access-)" + std::to_string(issued) +
                        R"(", "refresh_token": "refresh-)" + std::to_string(issued) +
                        R"(", "token_type": "Bearer", "expires_in": 3600})";
        // A slow token endpoint keeps every waiting caller queued behind the refresh.
        response.delay = 50ms;
        return response;
    });

    bbsync::config settings;
    settings.payer = {"127.0.0.1", payer.port()};
    settings.payer_client_id = "client";
    settings.payer_client_secret = "secret";
    settings.ca_file = pki.ca_file();
    bbsync::coro::https_client http(
        context.get_executor(), bbsync::coro::make_tls_client_context(pki.ca_file())
    );
    bbsync::payer_client client(http, settings);
    auto db = bbsync::store::database::open(":memory:");
    bbsync::store::migrate(db, bbsync::store::load_migrations(bbsync::store::project_migrations()));
    bbsync::repository repo(db);
    const auto key = repo.add_patient("001SB0000000000001", "-19990000000001", "refresh-0", 86400);
    bbsync::token_manager tokens(context.get_executor(), repo, client);

    const auto before = bbsync::coro::run_to_completion(context, first_token(tokens, key), 20s);
    REQUIRE(before == "access-1");

    std::vector<std::string> seen;
    bbsync::coro::run_to_completion(context, fifty_rejections(tokens, key, before, seen), 20s);
    payer.stop();

    CHECK(issued == 2);
    CHECK(tokens.refreshes() == 2);
    REQUIRE(seen.size() == 50);
    CHECK(std::set<std::string>(seen.begin(), seen.end()) == std::set<std::string>{"access-2"});
    CHECK(repo.refresh_token(key) == std::optional<std::string>("refresh-2"));
}
