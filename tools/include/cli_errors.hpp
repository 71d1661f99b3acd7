// SPDX-License-Identifier: BSD-3-Clause
// Command-line errors of the CLI11 tools (catsctl, cats-trafgen) as every
// cats program says them: one line saying what is wrong, one saying where
// to look, no class names, no wall of help.
//
//   catsctl: 'servce' is not a command of catsctl; did you mean 'service'? (service, instance, ...)
//     (catsctl --help for usage)
//   cats-trafgen: unknown argument '--bogus'
//     (cats-trafgen --help for usage)
//
// Thread safety: pure functions (main thread, at start).
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cats::cli {

// The subcommands the user got to: "instance add" ("" at the top).
inline std::string command_path(const CLI::App& app) {
    std::string path;
    for (const CLI::App* a = &app;;) {
        const std::vector<CLI::App*> subs = a->get_subcommands();
        if (subs.empty())
            return path;
        a = subs.front();
        path += (path.empty() ? "" : " ") + a->get_name();
    }
}

inline std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// Walk the words of the command line down the subcommand tree, as CLI11
// does: the first word that is no subcommand where one is expected is a
// mistyped command, an option that neither the command nor the program
// knows is an unknown argument. Returns the message, or "" if there is
// none.
inline std::string unknown_command(const CLI::App& app, const std::string& prog, int argc, char** argv) {
    const CLI::App* at = &app;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        const std::string w = argv[i];
        if (w == "--")
            return "";
        if (w.size() > 1 && w[0] == '-') {
            // An option's value is no command: skip it. "-sPATH" and "-js"
            // (a value attached, flags grouped) are named by their first
            // letter; then a value follows only if the last one takes it.
            const bool short_group = w[1] != '-' && w.size() > 2;
            const std::string name = short_group ? w.substr(0, 2) : w.substr(0, w.find('='));
            const CLI::Option* o = at->get_option_no_throw(name);
            if (o == nullptr)
                o = app.get_option_no_throw(name);
            if (o == nullptr)
                return "unknown argument '" + w + "'";
            bool takes_next = o->get_expected_min() > 0 && w.find('=') == std::string::npos;
            if (short_group && takes_next) {
                takes_next = false;  // "-sPATH"
            } else if (short_group) {
                const CLI::Option* last = at->get_option_no_throw(std::string("-") + w.back());
                if (last == nullptr)
                    last = app.get_option_no_throw(std::string("-") + w.back());
                takes_next = last != nullptr && last->get_expected_min() > 0;
            }
            if (takes_next)
                ++i;
            continue;
        }
        const std::vector<const CLI::App*> subs = at->get_subcommands([](const CLI::App*) { return true; });
        if (subs.empty())
            return "";  // a leaf: the rest are its arguments
        const CLI::App* next = nullptr;
        std::string names, best;
        std::size_t best_d = SIZE_MAX;
        for (const CLI::App* sub : subs) {
            if (sub->check_name(w))
                next = sub;
            names += (names.empty() ? "" : ", ") + sub->get_name();
            if (const std::size_t d = edit_distance(w, sub->get_name()); d < best_d) {
                best_d = d;
                best = sub->get_name();
            }
        }
        if (next == nullptr) {
            const std::string where = path.empty() ? prog : prog + " " + path;
            std::string msg = "'" + w + "' is not a command of " + where;
            if (best_d <= 2)
                msg += "; did you mean '" + best + "'?";
            return msg + " (" + names + ")";
        }
        at = next;
        path += (path.empty() ? "" : " ") + next->get_name();
    }
    return "";
}

// Prints the error of a failed app.parse() (not --help or --version: give
// those to app.exit()) in two lines to stderr.
inline void report_parse_error(const CLI::App& app, const CLI::ParseError& e, const std::string& prog, int argc,
                               char** argv) {
    std::string msg = unknown_command(app, prog, argc, argv);
    const std::string path = command_path(app);
    if (msg.empty()) {
        if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
            std::string words;
            for (const std::string& w : app.remaining(true))
                words += (words.empty() ? "" : " ") + w;
            msg = "unknown argument '" + words + "'";  // (the second line names the command)
        } else {
            msg = e.what();
            // "The following ..." -> "the following ..."
            if (!msg.empty() && msg[0] >= 'A' && msg[0] <= 'Z' && (msg.size() < 2 || msg[1] < 'A' || msg[1] > 'Z'))
                msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
            if (msg == "a subcommand is required")
                msg = "a command is required after '" + (path.empty() ? prog : prog + " " + path) + "'";
            else if (!path.empty())
                msg = path + ": " + msg;  // "monitor: --count: 0 is out of range 1..4294967295"
        }
    }
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), msg.c_str());
    std::fprintf(stderr, "  (%s %s--help for usage)\n", prog.c_str(), path.empty() ? "" : (path + " ").c_str());
}

// app.parse() with the errors said as above: -1 when the command line
// parsed, else the exit status (0 for --help and --version, which print
// their text, `usage_status` for an error).
inline int parse(CLI::App& app, const std::string& prog, int argc, char** argv, int usage_status) {
    try {
        app.parse(argc, argv);
        return -1;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        report_parse_error(app, e, prog, argc, argv);
        return usage_status;
    }
}

}  // namespace cats::cli
