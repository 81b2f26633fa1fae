#include "sandbox/datacloud_tenant.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <bbsync/embedded_file.hpp>
#include <stdexcept>

#include "sandbox/deterministic_random.hpp"

namespace bbsync::embedded {
std::span<const embedded_file> datacloud_schemas();
}  // namespace bbsync::embedded

namespace bbsync::sandbox {
namespace {

namespace json = boost::json;

constexpr std::string_view schema_file = "BlueButtonClaim.yaml";

std::string base64url(std::string_view bytes)
{
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : bytes)
    {
        buffer = (buffer << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6)
        {
            bits -= 6;
            out += alphabet[(buffer >> bits) & 0x3FU];
        }
    }
    if (bits > 0)
        out += alphabet[(buffer << (6 - bits)) & 0x3FU];
    return out;
}

datacloud_schema load_schema()
{
    for (const auto& file : embedded::datacloud_schemas())
    {
        if (file.name == schema_file)
            return datacloud_schema::parse(file.content);
    }
    throw std::runtime_error(
        "embedded Data Cloud schema " + std::string(schema_file) + " is missing from the build"
    );
}

}  // namespace

datacloud_tenant::datacloud_tenant(std::uint64_t seed, int token_lifetime_seconds)
    : seed_(seed), token_lifetime_seconds_(token_lifetime_seconds), schema_(load_schema())
{}

std::string datacloud_tenant::issue_token(std::int64_t now_ms)
{
    ++tokens_issued_;
    const json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "bbsync-sandbox-tenant"}};
    const json::object payload{
        {"sub", "005SB0000000001AAA"},
        {"aud", "bbsync-sandbox-datacloud"},
        {"iat", now_ms / 1000},
        {"exp", now_ms / 1000 + token_lifetime_seconds_},
        {"jti", random_text(22, seed_, tokens_issued_, 0xDC)},
    };
    // The signature is random base64url text, because nothing verifies it.
    std::string token = base64url(json::serialize(header)) + "." + base64url(json::serialize(payload)) + "." +
                        random_text(86, seed_, tokens_issued_, 0xD5);
    tokens_.emplace(token, now_ms);
    return token;
}

bool datacloud_tenant::is_live_token(std::string_view token, std::int64_t now_ms) const
{
    const auto found = tokens_.find(std::string(token));
    return found != tokens_.end() && now_ms < found->second + std::int64_t{token_lifetime_seconds_} * 1000;
}

bool datacloud_tenant::invalidate_token(std::string_view token)
{
    return tokens_.erase(std::string(token)) == 1;
}

void datacloud_tenant::store(std::string_view object, const json::array& records)
{
    auto stored = records_.find(object);
    if (stored == records_.end())
        stored = records_.emplace(std::string(object), std::map<std::string, json::object>{}).first;
    for (const auto& record : records)
    {
        const auto& fields = record.as_object();
        const std::string id(fields.at("id").as_string());
        auto [it, created] = stored->second.insert_or_assign(id, fields);
        if (!created)
            ++updates_[std::string(object)];
    }
    ++batches_[std::string(object)];
}

const std::map<std::string, json::object>* datacloud_tenant::records(std::string_view object) const
{
    const auto found = records_.find(object);
    return found == records_.end() ? nullptr : &found->second;
}

json::object datacloud_tenant::state_json() const
{
    json::object records;
    json::object updates;
    json::object batches;
    std::uint64_t records_total = 0;
    for (const auto& [object, fields] : schema_.objects())
    {
        const auto* stored = this->records(object);
        const std::uint64_t count = stored == nullptr ? 0 : stored->size();
        records[object] = count;
        records_total += count;
        const auto update = updates_.find(object);
        updates[object] = update == updates_.end() ? 0 : update->second;
        const auto batch = batches_.find(object);
        batches[object] = batch == batches_.end() ? 0 : batch->second;
    }
    json::object by_status;
    for (const auto& [status, count] : requests_by_status_)
        by_status[std::to_string(status)] = count;
    json::object rejections;
    std::uint64_t rejections_total = 0;
    for (const auto& [reason, count] : rejections_)
    {
        rejections[reason] = count;
        rejections_total += count;
    }
    return json::object{
        {"records", std::move(records)},
        {"records_total", records_total},
        {"updates", std::move(updates)},
        {"batches", std::move(batches)},
        {"requests", std::move(by_status)},
        {"rejections", std::move(rejections)},
        {"rejections_total", rejections_total},
        {"tokens_issued", tokens_issued_},
    };
}

}  // namespace bbsync::sandbox
