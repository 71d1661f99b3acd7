// SPDX-License-Identifier: BSD-3-Clause
// cats-control: the control process of the cats gateway. Runs in the
// foreground (systemd Type=simple), logs to stderr, exits 0 on SIGTERM or
// SIGINT. See control/README.md.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "cats_version.h"
#include "config.hpp"
#include "daemon.hpp"
#include "log.hpp"

namespace {

using namespace cats;
using namespace cats::control;

constexpr const char* kUsage =
    "usage: cats-control [--config FILE] [--foreground] [--log-level debug|info|warn|error] [--check]\n"
    "  -c, --config FILE   YAML config (default /etc/cats/control.yaml)\n"
    "  -f, --foreground    run in the foreground (the default and only mode)\n"
    "  -l, --log-level L   least severe level logged (default info)\n"
    "      --check         load and validate the config, then exit\n"
    "      --version       print the version and exit\n"
    "  -h, --help          this text\n";

int usage_error(const std::string& what) {
    std::fprintf(stderr, "cats-control: %s\n  (cats-control --help for usage)\n", what.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    set_log_program("cats-control");
    std::string config_path = kDefaultConfigPath;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (a == "-c" || a == "--config") {
            const char* v = value();
            if (v == nullptr)
                return usage_error(std::string(a) + " needs a file name");
            config_path = v;
        } else if (a == "-f" || a == "--foreground") {
            // The default: systemd supervises a foreground process.
        } else if (a == "-l" || a == "--log-level") {
            const char* v = value();
            const std::optional<LogLevel> l = parse_log_level(v ? v : "");
            if (!l)
                return usage_error(std::string(a) + " takes " + kLogLevelNames);
            set_log_level(*l);
        } else if (a == "--check") {
            check_only = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--version") {
            std::printf("cats-control %s (git %s)\n", CATS_VERSION, CATS_GIT);
            return 0;
        } else {
            return usage_error("unknown argument '" + std::string(a) + "'");
        }
    }

    Config cfg;
    try {
        cfg = load_config_file(config_path);
    } catch (const ConfigError& e) {
        // The file once, then the YAML path (errors about the file itself
        // already start with its name).
        const std::string what = e.what();
        log_error("config: " + (what.rfind(config_path + ":", 0) == 0 ? what : config_path + ": " + what));
        return 1;
    }
    if (check_only) {
        std::printf("%s: ok (%zu services, %zu peer keys, %zu listen addresses)\n", config_path.c_str(),
                    cfg.services.size(), cfg.peers.size(), cfg.listen.size());
        return 0;
    }

    // A catsctl that hangs up before its answer must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);

    try {
        boost::asio::io_context io;
        Daemon daemon(io, std::move(cfg));
        boost::asio::signal_set signals(io, SIGTERM, SIGINT);
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec)
                return;
            log_info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", exiting");
            daemon.stop();
            io.stop();
        });
        daemon.start();
        log_info("cats-control running (config " + config_path + ")");
        // A handler that throws must not end the daemon: io_context::run()
        // may be called again after an exception left it.
        for (;;) {
            try {
                io.run();
                break;
            } catch (const std::exception& e) {
                daemon.note_loop_error(e.what());
            } catch (...) {
                daemon.note_loop_error("unknown exception");
            }
        }
    } catch (const std::exception& e) {
        log_error(e.what());
        return 1;
    }
    return 0;
}
