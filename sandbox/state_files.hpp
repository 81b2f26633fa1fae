#ifndef BBSYNC_SANDBOX_STATE_FILES_HPP
#define BBSYNC_SANDBOX_STATE_FILES_HPP

#include <filesystem>
#include <string_view>

#include "sandbox/sandbox_state.hpp"

namespace bbsync::sandbox {

// Writes `content` to `path` through a temporary file in the same directory and a rename,
// so readers see either no file or the whole file. Throws std::filesystem::filesystem_error
// or std::runtime_error naming the path when writing fails.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Writes DIR/patients.json: payer id, Salesforce id and live refresh token of every patient.
// Throws like write_file_atomically.
void write_patients_file(const std::filesystem::path& state_dir, const sandbox_state& state);

// Writes DIR/sandbox.json, whose presence means the sandbox is ready. It contains the pid,
// the CA file, host and port of each service, the payer mode, the client credentials and the
// Salesforce user of the Data Cloud token exchange. Throws like
// write_file_atomically.
void write_ready_file(const std::filesystem::path& state_dir, const sandbox_state& state);

}  // namespace bbsync::sandbox

#endif
