#include "daemon/service/cli.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <vector>

#include "coro/https_client.hpp"
#include "coro/run.hpp"
#include "daemon/service/config.hpp"
#include "daemon/service/demo.hpp"
#include "daemon/service/instance_lock.hpp"
#include "daemon/service/log.hpp"
#include "daemon/service/service_runner.hpp"
#include "daemon/sync/sync_engine.hpp"
#include "store/error.hpp"
#include "store/migrations.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace bbsync {
namespace {

// After a failed write, fsync or a full disk, SQLite cannot report what reached the file, so no
// later job may be reported on top of it. bbsync therefore stops at once. systemd restarts it,
// and the restart marks the interrupted jobs Failed from what the file really contains.
void stop_on_storage_failure(const store::error& failure) noexcept
{
    log::error(
        "store",
        std::string("the database could not be written (") + failure.what() +
            "); stopping without further writes; check free space and the disk, then start bbsync again"
    );
    std::fflush(stderr);
    std::_Exit(exit_storage_failure);
}

constexpr const char* version_text = "bbsync 0.1.0";

constexpr const char* help_text = R"(Usage: bbsync [--config PATH] COMMAND [OPTIONS]

Syncs Medicare claims from a Blue Button 2.0 or CARIN payer API into Salesforce Health Cloud.

Commands:
  demo [--patients N] [--eobs-per-patient M] [--keep]
                       Start the built-in sandbox, sync N patients (default 100) into it
                       from a temporary database, print the job table and the sandbox's
                       counts, then clean up (--keep leaves the temporary folder).
  run --once           Sync every due patient once, mirror the jobs, exit 1 if a job Failed.
  run                  Sync due patients on a schedule until SIGTERM or SIGINT.
  sync --patient ID    Sync one registered patient now, due or not.
  patient add --sf-id ID --payer-id ID --refresh-token-file FILE|- [--interval SECONDS]
                       Register a consented patient; the refresh token is read from FILE,
                       or from standard input for '-'.
  patient list         List patients (shows whether a token is stored, never the token).
  patient remove --sf-id ID [--purge-history]
                       Remove a patient. A patient with job history is kept unless
                       --purge-history is given, which deletes its jobs as well.
  patient resync --sf-id ID
                       Clear the watermark so the next sync fetches the whole history.
  jobs [--patient ID] [--status STATUS] [--limit N] [--json]
                       Show the job history, newest first.
  db migrate           Create or upgrade the database schema.
  config check         Validate the configuration and print warnings.

Options:
  --config PATH        Configuration file (default $BBSYNC_CONFIG or /etc/bbsync/bbsync.conf).
  --help               Show this help.
  --version            Show the version.

Exit status: 0 success, 1 runtime failure, 2 usage or configuration error,
74 database could not be written (disk full or I/O error).
)";

class usage_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Removes "--name VALUE" from args and returns VALUE.
std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name)
{
    for (auto it = args.begin(); it != args.end(); ++it)
    {
        if (*it == name)
        {
            if (std::next(it) == args.end())
            {
                throw usage_error(name + " needs a value; see bbsync --help");
            }
            auto value = *std::next(it);
            args.erase(it, std::next(it, 2));
            return value;
        }
    }
    return std::nullopt;
}

bool take_flag(std::vector<std::string>& args, const std::string& name)
{
    auto it = std::find(args.begin(), args.end(), name);
    if (it == args.end())
    {
        return false;
    }
    args.erase(it);
    return true;
}

void expect_no_more(const std::vector<std::string>& args)
{
    if (!args.empty())
    {
        throw usage_error("unexpected argument '" + args.front() + "'; see bbsync --help");
    }
}

int parse_positive(const std::string& option, const std::string& value, int max)
{
    try
    {
        std::size_t used = 0;
        const int number = std::stoi(value, &used);
        if (used == value.size() && number >= 1 && number <= max)
        {
            return number;
        }
    }
    catch (const std::exception&)
    {}
    throw usage_error(option + " " + value + " is invalid: use an integer from 1 to " + std::to_string(max));
}

loaded_config load(const std::string& path)
{
    config_sources sources;
    sources.file_path = path;
    sources.environment = process_environment();
    if (const char* credentials = std::getenv("CREDENTIALS_DIRECTORY"))
    {
        sources.credentials_directory = credentials;
    }
    auto loaded = load_config(sources);
    load_token_cipher(loaded.values);
    log::set_threshold(loaded.values.log_level);
    for (const auto& warning : loaded.warnings)
    {
        log::warning("config", warning);
    }
    return loaded;
}

void require_sync_credentials(const config& settings)
{
    std::string missing;
    const std::pair<const char*, const std::string*> required[] = {
        {"bluebuttonapi.clientId", &settings.payer_client_id},
        {"bluebuttonapi.clientSecret", &settings.payer_client_secret},
        {"hcOrg.client_id", &settings.sf_client_id},
        {"hcOrg.client_secret", &settings.sf_client_secret},
    };
    for (const auto& [key, value] : required)
    {
        if (value->empty())
        {
            missing += missing.empty() ? key : std::string(", ") + key;
        }
    }
    if (!missing.empty())
    {
        throw config_error("missing required configuration: " + missing + "; see docs/configuration.md");
    }
}

// Checks what load_config cannot see from the text alone: that the CA file loads and that a
// trigger listener has an API key. Throws config_error naming the key and the fix.
void check_runtime_settings(const config& settings)
{
    try
    {
        coro::make_tls_client_context(settings.ca_file);
    }
    catch (const std::exception& e)
    {
        throw config_error(
            "tls.caFile = \"" + settings.ca_file + "\": " + e.what() +
            "; point it at a PEM file of CA certificates"
        );
    }
    if (settings.https_listen.enabled && settings.https_api_key.empty())
    {
        throw config_error("https.listen is set but no API key is configured: set https.apiKeyFile or the "
                           "systemd credential https.apiKey");
    }
}

// Encrypts plaintext refresh tokens and moves tokens of the previous key to the current one.
// A token key error becomes a configuration error, because only the operator can fix it.
void protect_stored_tokens(const config& settings, store::database& db)
{
    token_protection_report report;
    try
    {
        report = repository(db, settings.refresh_token_cipher).protect_refresh_tokens();
    }
    catch (const token_cipher_error& e)
    {
        throw config_error(e.what());
    }
    if (report.encrypted > 0 || report.reencrypted > 0)
    {
        log::notice(
            "token",
            "encrypted " + std::to_string(report.encrypted) +
                " plaintext refresh token(s) and re-encrypted " + std::to_string(report.reencrypted) +
                " token(s) of the previous key with key id " + settings.refresh_token_cipher->key_id()
        );
    }
    if (report.plaintext > 0)
    {
        log::warning(
            "token",
            std::to_string(report.plaintext) +
                " refresh token(s) are stored unencrypted: set tokens.keyFile to a file made with "
                "openssl rand -hex 32 to encrypt them"
        );
    }
}

store::database open_database(const config& settings)
{
    auto db = store::database::open(settings.database_path);
    const auto applied = store::migrate(db, store::load_migrations(store::project_migrations()));
    if (applied > 0)
    {
        log::info(
            "store", "applied " + std::to_string(applied) + " migration(s) to " + settings.database_path
        );
    }
    protect_stored_tokens(settings, db);
    return db;
}

// Opens the database for a command that only reads it. A missing file, or a file without the
// bbsync schema, is reported instead of created, because a mistyped database.path would
// otherwise show an empty list. Throws std::runtime_error naming the path and the fix.
store::database open_existing_database(const config& settings)
{
    const auto& path = settings.database_path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
    {
        throw std::runtime_error(
            "database " + path + " not found: check database.path, or create it with bbsync db migrate"
        );
    }
    store::open_options options;
    options.create = false;
    auto db = store::database::open(path, options);
    if (db.user_version() == 0)
    {
        throw std::runtime_error(
            "database " + path +
            " has no bbsync schema: check database.path, or create it with bbsync db migrate"
        );
    }
    store::migrate(db, store::load_migrations(store::project_migrations()));
    return db;
}

// A patient's rows that removing the patient deletes with it.
struct patient_history
{
    std::int64_t jobs = 0;
    std::int64_t unmirrored_jobs = 0;
};

patient_history count_history(store::database& db, const std::string& sf_patient_id)
{
    auto query = db.prepare(
        "SELECT count(*), count(o.job_id) FROM sync_jobs j JOIN patients p ON p.patient_key = j.patient_key "
        "LEFT JOIN mirror_outbox o ON o.job_id = j.job_id WHERE p.sf_patient_id = ?1"
    );
    query.bind(1, sf_patient_id);
    patient_history history;
    if (query.step())
    {
        history.jobs = query.column_int64(0);
        history.unmirrored_jobs = query.column_int64(1);
    }
    return history;
}

// Maximum refresh token length accepted, in bytes. Real tokens are a few dozen characters.
constexpr std::size_t max_refresh_token_bytes = 4096;

bool has_control_or_space(std::string_view text)
{
    for (unsigned char c : text)
    {
        if (c <= 0x20 || c == 0x7F)
        {
            return true;
        }
    }
    return false;
}

std::string read_secret_input(const std::string& source)
{
    const auto name = source == "-" ? std::string("standard input") : source;
    std::ifstream file;
    if (source != "-")
    {
        file.open(source, std::ios::binary);
        if (!file || std::filesystem::is_directory(source))
        {
            throw usage_error(
                "cannot read the refresh token file " + source + ": check the path and permissions"
            );
        }
    }
    std::istream& in = source == "-" ? std::cin : file;

    // Read at most one byte past the limit, so that /dev/zero or a wrong file cannot exhaust memory.
    std::string text(max_refresh_token_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_refresh_token_bytes)
    {
        throw usage_error(
            "the refresh token read from " + name + " is longer than " +
            std::to_string(max_refresh_token_bytes) + " bytes: check that it is the right file"
        );
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    {
        text.pop_back();
    }
    if (text.empty())
    {
        throw usage_error("the refresh token read from " + name + " is empty");
    }
    if (has_control_or_space(text))
    {
        throw usage_error(
            "the refresh token read from " + name +
            " contains spaces, line breaks or control characters: it must be one "
            "token on one line"
        );
    }
    return text;
}

int command_patient(const std::string& config_path, std::vector<std::string> args)
{
    if (args.empty())
    {
        throw usage_error("patient needs a subcommand: add, list, remove or resync");
    }
    const auto action = args.front();
    args.erase(args.begin());
    auto settings = load(config_path).values;

    if (action == "add")
    {
        auto sf_id = take_option(args, "--sf-id");
        auto payer_id = take_option(args, "--payer-id");
        auto token_source = take_option(args, "--refresh-token-file");
        auto interval = take_option(args, "--interval");
        expect_no_more(args);
        if (!sf_id || !payer_id || !token_source)
        {
            throw usage_error("patient add needs --sf-id, --payer-id and --refresh-token-file (FILE or -)");
        }
        if (sf_id->empty() || sf_id->size() > 20 || has_control_or_space(*sf_id))
        {
            const auto id_text = has_control_or_space(*sf_id)
                                     ? std::string("(with spaces or control characters)")
                                     : "'" + *sf_id + "'";
            throw usage_error(
                "--sf-id " + id_text +
                " is invalid: a Salesforce id has 1 to 20 characters without spaces or control characters"
            );
        }
        if (payer_id->empty() || payer_id->size() > 64 || has_control_or_space(*payer_id))
        {
            throw usage_error("--payer-id is invalid: use the payer's patient id (1 to 64 characters)");
        }
        const auto seconds = interval ? parse_positive("--interval", *interval, 31 * 86400)
                                      : static_cast<int>(settings.sync_interval.count());
        const auto token = read_secret_input(*token_source);
        auto db = open_database(settings);
        repository repo(db, settings.refresh_token_cipher);
        const auto key = repo.add_patient(*sf_id, *payer_id, token, seconds);
        std::cout << "added patient " << *sf_id << " with key " << key << "\n";
        return exit_ok;
    }
    if (action == "list")
    {
        expect_no_more(args);
        auto db = open_existing_database(settings);
        repository repo(db, settings.refresh_token_cipher);
        std::printf(
            "%-6s %-20s %-20s %-6s %-17s %-30s %s\n",
            "key",
            "sf_patient_id",
            "payer_patient_id",
            "token",
            "consent",
            "watermark",
            "next_sync_at"
        );
        for (const auto& patient : repo.list_patients())
        {
            std::printf(
                "%-6lld %-20s %-20s %-6s %-17s %-30s %s\n",
                static_cast<long long>(patient.key),
                patient.sf_patient_id.c_str(),
                patient.payer_patient_id.c_str(),
                patient.has_refresh_token ? "yes" : "no",
                patient.consent_state.c_str(),
                patient.watermark.value_or("-").c_str(),
                patient.next_sync_at.c_str()
            );
        }
        return exit_ok;
    }
    if (action == "remove" || action == "resync")
    {
        auto sf_id = take_option(args, "--sf-id");
        const bool purge_history = action == "remove" && take_flag(args, "--purge-history");
        expect_no_more(args);
        if (!sf_id)
        {
            throw usage_error("patient " + action + " needs --sf-id ID");
        }
        auto db = open_existing_database(settings);
        repository repo(db, settings.refresh_token_cipher);
        if (action == "remove" && !purge_history)
        {
            const auto history = count_history(db, *sf_id);
            if (history.jobs > 0)
            {
                std::cerr << "bbsync: patient " << *sf_id << " has " << history.jobs
                          << " job(s) in the local job history (" << history.unmirrored_jobs
                          << " not yet mirrored to Salesforce); removing the patient deletes them. Run "
                             "bbsync patient remove --sf-id "
                          << *sf_id << " --purge-history to delete the patient and that history\n";
                return exit_failure;
            }
        }
        const bool found = action == "remove" ? repo.remove_patient(*sf_id) : repo.reset_watermark(*sf_id);
        if (!found)
        {
            std::cerr << "bbsync: patient " << *sf_id << " not found; see bbsync patient list\n";
            return exit_failure;
        }
        std::cout << (action == "remove" ? "removed patient " : "patient will be fully synced next: ")
                  << *sf_id << "\n";
        return exit_ok;
    }
    throw usage_error("unknown patient subcommand '" + action + "': use add, list, remove or resync");
}

int command_jobs(const std::string& config_path, std::vector<std::string> args)
{
    job_filter filter;
    filter.sf_patient_id = take_option(args, "--patient");
    filter.status = take_option(args, "--status");
    if (auto limit = take_option(args, "--limit"))
    {
        filter.limit = parse_positive("--limit", *limit, 100000);
    }
    const bool as_json = take_flag(args, "--json");
    expect_no_more(args);
    if (filter.status && *filter.status != "New" && *filter.status != "InProgress" &&
        *filter.status != "Completed" && *filter.status != "Failed" && *filter.status != "PartiallyCompleted")
    {
        throw usage_error(
            "--status " + *filter.status +
            " is invalid: use New, InProgress, Completed, Failed or PartiallyCompleted"
        );
    }
    auto settings = load(config_path).values;
    auto db = open_existing_database(settings);
    repository repo(db, settings.refresh_token_cipher);
    const auto jobs = repo.list_jobs(filter);
    if (as_json)
    {
        json::array rows;
        for (const auto& job : jobs)
        {
            rows.push_back(json::object{
                {"job_id", job.job_id},
                {"patient_key", job.patient_key},
                {"sf_patient_id", job.sf_patient_id},
                {"trigger", job.trigger},
                {"status", job.status},
                {"claim_data_status", job.claim_data_status},
                {"claim_data_ingestion", job.claim_data_ingestion},
                {"start_time", job.start_time},
                {"end_time", job.end_time ? json::value(*job.end_time) : json::value(nullptr)},
                {"eobs_fetched", job.eobs_fetched},
                {"resources_written", job.resources_written},
                {"resources_failed", job.resources_failed},
                {"last_error_class",
                 job.last_error_class ? json::value(*job.last_error_class) : json::value(nullptr)},
                {"mirror_state", job.mirror_state},
                {"summary", job.summary},
            });
        }
        std::cout << json::serialize(rows) << "\n";
        return exit_ok;
    }
    std::printf(
        "%-36s %-20s %-18s %-24s %6s %9s %7s %s\n",
        "job_id",
        "sf_patient_id",
        "status",
        "start_time",
        "eobs",
        "resources",
        "failed",
        "error"
    );
    for (const auto& job : jobs)
    {
        std::printf(
            "%-36s %-20s %-18s %-24s %6lld %9lld %7lld %s\n",
            job.job_id.c_str(),
            job.sf_patient_id.c_str(),
            job.status.c_str(),
            job.start_time.c_str(),
            static_cast<long long>(job.eobs_fetched),
            static_cast<long long>(job.resources_written),
            static_cast<long long>(job.resources_failed),
            job.last_error_class.value_or("-").c_str()
        );
    }
    return exit_ok;
}

int command_run(const std::string& config_path, std::vector<std::string> args)
{
    const bool once = take_flag(args, "--once");
    expect_no_more(args);
    auto settings = load(config_path).values;
    require_sync_credentials(settings);
    check_runtime_settings(settings);
    instance_lock lock(settings.database_path);
    auto db = open_database(settings);
    log::info("bbsync", std::string(version_text) + " starting");
    return run_service(settings, db, once ? run_mode::once : run_mode::scheduler);
}

int command_sync(const std::string& config_path, std::vector<std::string> args)
{
    auto sf_id = take_option(args, "--patient");
    expect_no_more(args);
    if (!sf_id)
    {
        throw usage_error("sync needs --patient ID (the Salesforce patient id)");
    }
    auto settings = load(config_path).values;
    require_sync_credentials(settings);
    check_runtime_settings(settings);
    instance_lock lock(settings.database_path);
    auto db = open_database(settings);
    return run_service(settings, db, run_mode::patient, sf_id);
}

int dispatch(std::vector<std::string> args)
{
    if (take_flag(args, "--help") || take_flag(args, "-h"))
    {
        std::cout << help_text;
        return exit_ok;
    }
    if (take_flag(args, "--version"))
    {
        std::cout << version_text << "\n";
        return exit_ok;
    }
    std::string config_path = "/etc/bbsync/bbsync.conf";
    if (const char* from_environment = std::getenv("BBSYNC_CONFIG"))
    {
        config_path = from_environment;
    }
    if (auto path = take_option(args, "--config"))
    {
        config_path = *path;
    }
    if (args.empty())
    {
        throw usage_error("no command given; see bbsync --help");
    }
    const auto command = args.front();
    args.erase(args.begin());

    if (command == "demo")
    {
        demo_options options;
        if (auto patients = take_option(args, "--patients"))
        {
            options.patients = parse_positive("--patients", *patients, 10000);
        }
        if (auto eobs = take_option(args, "--eobs-per-patient"))
        {
            options.eobs_per_patient = parse_positive("--eobs-per-patient", *eobs, 1000);
        }
        options.keep = take_flag(args, "--keep");
        expect_no_more(args);
        return run_demo(options);
    }
    if (command == "run")
    {
        return command_run(config_path, std::move(args));
    }
    if (command == "sync")
    {
        return command_sync(config_path, std::move(args));
    }
    if (command == "patient")
    {
        return command_patient(config_path, std::move(args));
    }
    if (command == "jobs")
    {
        return command_jobs(config_path, std::move(args));
    }
    if (command == "db")
    {
        if (args.size() != 1 || args.front() != "migrate")
        {
            throw usage_error("unknown db subcommand: use bbsync db migrate");
        }
        auto settings = load(config_path).values;
        auto db = open_database(settings);
        std::cout << "database " << settings.database_path << " is at schema version " << db.user_version()
                  << "\n";
        return exit_ok;
    }
    if (command == "config")
    {
        if (args.size() != 1 || args.front() != "check")
        {
            throw usage_error("unknown config subcommand: use bbsync config check");
        }
        auto loaded = load(config_path);
        require_sync_credentials(loaded.values);
        check_runtime_settings(loaded.values);
        std::cout << "configuration " << config_path << " is valid"
                  << (loaded.warnings.empty() ? "" : " (with warnings above)") << "\n";
        return exit_ok;
    }
    throw usage_error("unknown command '" + command + "'; see bbsync --help");
}

}  // namespace

bool disable_core_dumps() noexcept
{
    const rlimit no_core{0, 0};
    bool ok = ::setrlimit(RLIMIT_CORE, &no_core) == 0;
#if !defined(__SANITIZE_ADDRESS__)
    // LeakSanitizer inspects the process with ptrace at exit. To keep that working, sanitizer
    // builds rely on the resource limit alone.
    ok = ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 && ok;
#endif
    return ok;
}

int run_cli(int argc, char** argv)
{
    if (!disable_core_dumps())
    {
        log::warning("bbsync", std::string("could not disable core dumps: ") + std::strerror(errno));
    }
    store::set_storage_failure_handler(stop_on_storage_failure);
    std::vector<std::string> args(argv + 1, argv + argc);
    int code = exit_failure;
    try
    {
        code = dispatch(std::move(args));
    }
    catch (const usage_error& e)
    {
        std::cerr << "bbsync: " << e.what() << "\n";
        code = exit_usage;
    }
    catch (const config_error& e)
    {
        std::cerr << "bbsync: " << e.what() << "\n";
        code = exit_usage;
    }
    catch (const std::exception& e)
    {
        std::cerr << "bbsync: " << e.what() << "\n";
        code = exit_failure;
    }
    try
    {
        log::flush_suppressed(true);
    }
    catch (const std::bad_alloc&)
    {}
    return code;
}

}  // namespace bbsync
