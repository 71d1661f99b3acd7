// SPDX-License-Identifier: BSD-3-Clause
// --plot FILE.png|FILE.svg: the report drawn by cats-plot.py (matplotlib,
// Debian's python3-matplotlib) run with /usr/bin/python3. The report goes to
// the script in a temporary JSON file.
//
// The script is, first found: $CATS_PLOT; then, for a binary run from its
// build tree, tools/trafgen/cats-plot.py of the source tree, else the
// installed <datadir>/cats/cats-plot.py (and the other one as a fallback).
//
// Thread safety: call from the main thread (spawns a process and waits).
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace cats::trafgen {

class PlotError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws PlotError unless `out` ends in .png or .svg.
void check_plot_name(const std::string& out);

// Throws PlotError (one line: what is missing and which Debian package has
// it) unless the script, python3 and matplotlib are there. For a live run,
// before it starts rather than after.
void check_plot_ready();

// Draw `report` into `out`. Throws PlotError with the script's message.
void plot_report(const nlohmann::json& report, const std::string& out);

}  // namespace cats::trafgen
