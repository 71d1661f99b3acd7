// SPDX-License-Identifier: BSD-3-Clause
// pcap files through libpcap: written as classic pcap (microsecond or
// nanosecond timestamps), read in any format libpcap reads (pcap, pcapng),
// timestamps always as nanoseconds.
//
// Thread safety: one PcapWriter per thread; read_pcap is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

struct pcap;
struct pcap_dumper;

namespace cats::trafgen {

class PcapError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class PcapWriter {
public:
    // Throws PcapError naming the path.
    PcapWriter(const std::string& path, bool nanosecond);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    void write(std::span<const std::uint8_t> frame, std::uint64_t ts_ns) noexcept;
    // Flush and close; throws PcapError if the data could not be written.
    void close();

private:
    std::string path_;
    pcap* pcap_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    bool nano_ = false;
};

// Calls f(frame, ts_ns) for each packet. Throws PcapError (path and libpcap's
// reason) for a missing, truncated or non-Ethernet file.
void read_pcap(const std::string& path,
               const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& f);

}  // namespace cats::trafgen
