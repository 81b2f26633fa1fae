#include "daemon/service/demo.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

#include "coro/run.hpp"
#include "daemon/service/cli.hpp"
#include "daemon/service/config.hpp"
#include "daemon/service/log.hpp"
#include "daemon/sync/sync_engine.hpp"
#include "store/migrations.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace bbsync {
namespace {

class demo_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}

json::value read_json(const fs::path& path)
{
    boost::system::error_code ec;
    auto value = json::parse(read_file(path), ec);
    if (ec)
    {
        throw demo_error("cannot parse " + path.string() + ": " + ec.message());
    }
    return value;
}

fs::path find_sandbox()
{
    const auto self = fs::read_symlink("/proc/self/exe").parent_path();
    for (const auto& candidate : {self / "bbsync-sandbox", self.parent_path() / "sandbox" / "bbsync-sandbox"})
    {
        if (fs::exists(candidate))
        {
            return candidate;
        }
    }
    throw demo_error(
        "bbsync-sandbox was not found next to " + self.string() +
        " or in ../sandbox: build the bbsync-sandbox target"
    );
}

// The sandbox child process; stopped with SIGTERM when this goes out of scope.
class sandbox_process
{
public:
    sandbox_process(const fs::path& binary, const fs::path& state_dir, const demo_options& options)
    {
        const auto log_path = (state_dir / "sandbox.log").string();
        const std::vector<std::string> args = {
            binary.string(),
            "--state-dir",
            state_dir.string(),
            "--patients",
            std::to_string(options.patients),
            "--eobs-per-patient",
            std::to_string(options.eobs_per_patient),
            "--seed",
            "1",
        };
        pid_ = fork();
        if (pid_ < 0)
        {
            throw demo_error("cannot start bbsync-sandbox: fork failed");
        }
        if (pid_ == 0)
        {
            const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (log_fd >= 0)
            {
                dup2(log_fd, STDOUT_FILENO);
                dup2(log_fd, STDERR_FILENO);
            }
            std::vector<char*> argv;
            for (const auto& arg : args)
            {
                argv.push_back(const_cast<char*>(arg.c_str()));
            }
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    ~sandbox_process()
    {
        if (pid_ > 0)
        {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
    }

    bool exited()
    {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_)
        {
            pid_ = -1;
            return true;
        }
        return false;
    }

private:
    pid_t pid_ = -1;
};

json::value wait_for_sandbox(sandbox_process& sandbox, const fs::path& state_dir)
{
    const auto ready_file = state_dir / "sandbox.json";
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(ready_file))
    {
        if (sandbox.exited())
        {
            throw demo_error(
                "bbsync-sandbox exited during start-up; see " + (state_dir / "sandbox.log").string()
            );
        }
        if (std::chrono::steady_clock::now() > give_up)
        {
            throw demo_error("bbsync-sandbox did not become ready within 30 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return read_json(ready_file);
}

std::string endpoint_of(const json::value& ready, const char* name)
{
    const auto& host = ready.at(name).at("host").as_string();
    return std::string(host) + ":" + std::to_string(ready.at(name).at("port").to_number<int>());
}

// Writes a fresh 256-bit refresh-token key as 64 hex digits, readable by the owner only.
fs::path write_token_key(const fs::path& folder)
{
    std::array<unsigned char, 32> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    {
        throw demo_error("cannot draw random bytes for the refresh-token key");
    }
    const auto path = folder / "token-key";
    {
        std::ofstream out(path);
        out << std::hex << std::setfill('0');
        for (const auto byte : key)
        {
            out << std::setw(2) << static_cast<int>(byte);
        }
        out << "\n";
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    return path;
}

// Writes a configuration a new operator would write, pointed at the sandbox.
fs::path write_config(const fs::path& folder, const json::value& ready)
{
    const auto path = folder / "bbsync.conf";
    std::ofstream out(path);
    out << "# bbsync demo configuration, pointed at bbsync-sandbox\n"
        << "bluebuttonapi.host = " << endpoint_of(ready, "payer") << "\n"
        << "bluebuttonapi.clientId = " << ready.at("payer_client_id").as_string().c_str() << "\n"
        << "bluebuttonapi.clientSecret = " << ready.at("payer_client_secret").as_string().c_str() << "\n"
        << "bluebuttonapi.eobEndpoint.count = 10\n"
        << "hcOrg.tokenUrl = https://" << endpoint_of(ready, "salesforce") << "/services/oauth2/token\n"
        << "hcOrg.client_id = " << ready.at("sf_client_id").as_string().c_str() << "\n"
        << "hcOrg.client_secret = " << ready.at("sf_client_secret").as_string().c_str() << "\n"
        << "bundle.host = " << endpoint_of(ready, "healthcloud") << "\n"
        << "tls.caFile = " << ready.at("ca_file").as_string().c_str() << "\n"
        << "database.path = " << (folder / "bbsync.db").string() << "\n"
        << "tokens.keyFile = " << write_token_key(folder).string() << "\n"
        << "tokens.allowPlaintext = false\n";
    // Claim records go to the sandbox's Data Cloud tenant, logging in through its Salesforce host
    // with its Data Cloud user. A sandbox without a Data Cloud tenant leaves ingestion off.
    const auto* fields = ready.if_object();
    if (fields != nullptr && fields->contains("datacloud") && fields->contains("dc_username"))
    {
        out << "claimData.claimDataIngestion = true\n"
            << "claimData.cdpConfig.url = https://" << endpoint_of(ready, "salesforce") << "\n"
            << "claimData.cdpConfig.user = " << ready.at("dc_username").as_string().c_str() << "\n"
            << "claimData.cdpConfig.password = " << ready.at("dc_password").as_string().c_str() << "\n"
            << "claimData.cdpConfig.client_id = " << ready.at("sf_client_id").as_string().c_str() << "\n"
            << "claimData.cdpConfig.client_secret = " << ready.at("sf_client_secret").as_string().c_str()
            << "\n";
    }
    out.close();
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    return path;
}

coro::awaitable<json::value> fetch_state(coro::https_client& http, const json::value& ready)
{
    coro::https_origin origin{
        std::string(ready.at("payer").at("host").as_string()),
        static_cast<std::uint16_t>(ready.at("payer").at("port").to_number<int>())};
    coro::http_request request;
    request.target = "/_sandbox/state";
    auto response = co_await http.send(origin, request);
    if (!response || response->status != 200)
    {
        throw demo_error("cannot read the sandbox state from /_sandbox/state");
    }
    co_return json::parse(response->body);
}

std::int64_t count_of(const json::value& state, const char* section, const char* key)
{
    const auto* object = state.at(section).if_object();
    const auto* value = object ? object->if_contains(key) : nullptr;
    return value && value->is_number() ? value->to_number<std::int64_t>() : 0;
}

// Prints the claim data outcome of the jobs and what the sandbox's Data Cloud tenant stored.
void print_claim_data(repository& repo, const json::value& state, const demo_options& options)
{
    const auto* fields = state.if_object();
    const auto* datacloud = fields != nullptr ? fields->if_contains("datacloud") : nullptr;
    if (datacloud == nullptr || !datacloud->is_object())
    {
        return;
    }
    std::map<std::string, int> statuses;
    for (const auto& job : repo.list_jobs(job_filter{std::nullopt, std::nullopt, options.patients}))
    {
        ++statuses[job.claim_data_status];
    }
    std::cout << "Claim data:";
    for (const auto& [status, count] : statuses)
    {
        std::cout << " " << count << " " << status << ";";
    }
    std::cout << " Data Cloud stored records:";
    if (const auto* records = datacloud->get_object().if_contains("records"); records && records->is_object())
    {
        for (const auto& [object_name, count] : records->get_object())
        {
            std::cout << " " << object_name << " " << count.to_number<std::int64_t>() << ";";
        }
    }
    std::cout << " rejected requests " << count_of(state, "datacloud", "rejections_total") << "\n";
}

int demo(const demo_options& options)
{
    // Step 1: a private temporary folder for the sandbox state and the database.
    std::string pattern = (fs::temp_directory_path() / "bbsync-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
    {
        throw demo_error("cannot create a temporary folder in " + fs::temp_directory_path().string());
    }
    const fs::path folder = pattern;
    struct cleanup
    {
        fs::path folder;
        bool keep;
        ~cleanup()
        {
            std::error_code ec;
            if (!keep)
            {
                fs::remove_all(folder, ec);
            }
        }
    } remove_folder{folder, options.keep};

    // Step 2: start the sandbox and wait until it has written sandbox.json.
    std::cout << "Starting bbsync-sandbox with " << options.patients << " patients x "
              << options.eobs_per_patient << " EOBs...\n";
    fs::create_directories(folder / "sandbox");
    sandbox_process sandbox(find_sandbox(), folder / "sandbox", options);
    auto ready = wait_for_sandbox(sandbox, folder / "sandbox");

    // Step 3: configuration, database and the sandbox's consented patients.
    config_sources sources;
    sources.file_path = write_config(folder, ready).string();
    auto settings = load_config(sources).values;
    auto db = store::database::open(settings.database_path);
    store::migrate(db, store::load_migrations(store::project_migrations()));
    repository repo(db);
    const auto patients = read_json(folder / "sandbox" / "patients.json");
    for (const auto& patient : patients.as_array())
    {
        repo.add_patient(
            std::string(patient.at("sf_patient_id").as_string()),
            std::string(patient.at("payer_patient_id").as_string()),
            std::string(patient.at("refresh_token").as_string()),
            static_cast<std::int64_t>(settings.sync_interval.count())
        );
    }

    // Step 4: one sync of every due patient, as `bbsync run --once` does.
    std::cout << "Syncing " << patients.as_array().size() << " patients...\n";
    boost::asio::io_context context(1);
    sync_engine engine(context.get_executor(), settings, db);
    const auto started = std::chrono::steady_clock::now();
    engine.show_progress_on(STDOUT_FILENO);
    auto totals = coro::run_to_completion(context, engine.run_once());
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

    // Step 5: the job table, as operators see it in sqlite3.
    std::printf(
        "\n%-36s %-20s %-10s %5s %9s %s\n", "job_id", "sf_patient_id", "status", "eobs", "resources", "mirror"
    );
    for (const auto& job : repo.list_jobs(job_filter{std::nullopt, std::nullopt, options.patients}))
    {
        std::printf(
            "%-36s %-20s %-10s %5lld %9lld %s\n",
            job.job_id.c_str(),
            job.sf_patient_id.c_str(),
            job.status.c_str(),
            static_cast<long long>(job.eobs_fetched),
            static_cast<long long>(job.resources_written),
            job.mirror_state.c_str()
        );
    }

    // Step 6: what the sandbox stored.
    auto state = coro::run_to_completion(context, fetch_state(engine.http(), ready));
    const auto eobs = state.at("eobs_total").to_number<std::int64_t>();
    const auto encounters = count_of(state, "records", "Encounter");
    const auto duplicates = state.at("duplicates_total").to_number<std::int64_t>();
    const auto rejected = state.at("rejected_total").to_number<std::int64_t>();
    std::cout << "\nJobs: " << totals.jobs << " (" << totals.completed << " Completed, "
              << totals.partially_completed << " PartiallyCompleted, " << totals.failed << " Failed), "
              << totals.mirrored << " mirrored to PatientSyncJob__c, in " << elapsed.count() << " ms\n";
    std::cout << "Sandbox: " << eobs << " EOBs served; stored records:";
    for (const auto& [type, count] : state.at("records").as_object())
    {
        std::cout << " " << type << " " << count.to_number<std::int64_t>() << ";";
    }
    std::cout << " duplicates " << duplicates << "; rejected requests " << rejected << "\n";
    print_claim_data(repo, state, options);
    if (options.keep)
    {
        std::cout << "Kept " << folder.string() << " (database bbsync.db, sandbox state and log)\n";
    }

    const bool ok = totals.completed == options.patients && totals.jobs == options.patients &&
                    encounters == eobs && duplicates == 0;
    std::cout
        << (ok ? "Demo OK: every job Completed and the sandbox holds one Encounter per EOB.\n"
               : "Demo FAILED: see the job table and counts above.\n");
    return ok ? exit_ok : exit_failure;
}

}  // namespace

int run_demo(const demo_options& options)
{
    try
    {
        return demo(options);
    }
    catch (const std::exception& e)
    {
        std::cerr << "bbsync demo: " << e.what() << "\n";
        return exit_failure;
    }
}

}  // namespace bbsync
