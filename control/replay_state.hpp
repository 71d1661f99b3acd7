// SPDX-License-Identifier: BSD-3-Clause
// The last accepted advertisement sequence of each node, kept across
// cats-control restarts (issue 20 item 4; proto-defs/ADVERT.md section 7).
//
// One text file in the state directory (`state_dir` in control.yaml):
//
//   cats-control replay state 1
//   <node_id> <last sequence>
//   ...
//
// Written atomically: a temporary file in the same directory, fsync, then
// rename over the old one and fsync the directory, so that a crash leaves
// either the old state or the new, never a mix. A file that does not parse
// is an error naming the file and line: cats-control refuses to start
// rather than forget what it had accepted.
//
// Thread safety: none; the daemon's io_context thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace cats::control {

inline constexpr const char* kReplayStateFile = "replay-sequences";

// Make `dir` (mode 0700 when created); throws std::runtime_error naming it.
void ensure_state_dir(const std::string& dir);

// The state in `path`; empty if the file does not exist. Throws
// std::runtime_error ("<path>:<line>: ...") when it does not parse.
std::map<std::uint32_t, std::uint64_t> load_replay_state(const std::string& path);

// Replace `path` atomically with `seqs`. Throws std::runtime_error naming
// the step that failed; the old file is then left as it was.
void save_replay_state(const std::string& path, const std::map<std::uint32_t, std::uint64_t>& seqs);

}  // namespace cats::control
