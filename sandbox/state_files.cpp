#include "sandbox/state_files.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace bbsync::sandbox {

namespace json = boost::json;

void write_file_atomically(const std::filesystem::path& path, std::string_view content)
{
    auto temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out)
            throw std::runtime_error("cannot write " + temporary.string() + ": " + std::strerror(errno));
    }
    std::filesystem::rename(temporary, path);
}

void write_patients_file(const std::filesystem::path& state_dir, const sandbox_state& state)
{
    json::array patients;
    const auto& records = state.data.patients();
    for (std::size_t i = 0; i < records.size(); ++i)
    {
        patients.push_back(json::object{
            {"payer_patient_id", records[i].payer_id},
            {"sf_patient_id", records[i].sf_id},
            {"refresh_token", state.payer_tokens.live_refresh_token(i)},
        });
    }
    write_file_atomically(state_dir / "patients.json", json::serialize(patients) + "\n");
}

void write_ready_file(const std::filesystem::path& state_dir, const sandbox_state& state)
{
    const auto endpoint = [&](host_kind host) {
        return json::object{{"host", "127.0.0.1"}, {"port", state.port(host)}};
    };
    const json::object ready{
        {"pid", ::getpid()},
        {"ca_file", std::filesystem::absolute(state_dir / "ca.pem").lexically_normal().string()},
        {"payer", endpoint(host_kind::payer)},
        {"salesforce", endpoint(host_kind::salesforce)},
        {"healthcloud", endpoint(host_kind::healthcloud)},
        {"datacloud", endpoint(host_kind::datacloud)},
        {"mode", to_string(state.mode)},
        {"payer_client_id", payer_client_id},
        {"payer_client_secret", payer_client_secret},
        {"sf_client_id", sf_client_id},
        {"sf_client_secret", sf_client_secret},
        {"dc_username", dc_username},
        {"dc_password", dc_password},
    };
    write_file_atomically(state_dir / "sandbox.json", json::serialize(ready) + "\n");
}

}  // namespace bbsync::sandbox
