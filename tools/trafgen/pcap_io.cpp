// SPDX-License-Identifier: BSD-3-Clause
#include "pcap_io.hpp"

#include <pcap/pcap.h>

#include <cstdio>

namespace cats::trafgen {

// Frames up to the largest the generator builds.
constexpr int kSnapLen = 65535;

PcapWriter::PcapWriter(const std::string& path, bool nanosecond) : path_(path), nano_(nanosecond) {
    pcap_ = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kSnapLen,
                                                 nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (pcap_ == nullptr)
        throw PcapError(path + ": pcap_open_dead failed");
    dumper_ = pcap_dump_open(pcap_, path.c_str());
    if (dumper_ == nullptr) {
        const std::string err = pcap_geterr(pcap_);
        pcap_close(pcap_);
        pcap_ = nullptr;
        // libpcap's message names the file already.
        throw PcapError(err.find(path) == std::string::npos ? path + ": " + err : err);
    }
}

PcapWriter::~PcapWriter() {
    if (dumper_ != nullptr)
        pcap_dump_close(dumper_);
    if (pcap_ != nullptr)
        pcap_close(pcap_);
}

void PcapWriter::write(std::span<const std::uint8_t> frame, std::uint64_t ts_ns) noexcept {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(ts_ns / 1000000000ULL);
    // libpcap takes the sub-second part in the unit the file was opened with.
    h.ts.tv_usec = static_cast<suseconds_t>(nano_ ? ts_ns % 1000000000ULL : (ts_ns % 1000000000ULL) / 1000);
    h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
}

void PcapWriter::close() {
    if (dumper_ == nullptr)
        return;
    const bool bad = pcap_dump_flush(dumper_) != 0;
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
    pcap_close(pcap_);
    pcap_ = nullptr;
    if (bad)
        throw PcapError(path_ + ": write failed");
}

void read_pcap(const std::string& path, const std::function<void(std::span<const std::uint8_t>, std::uint64_t)>& f) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr)
        throw PcapError(path + ": " + err);
    struct Closer {
        pcap_t* p;
        ~Closer() { pcap_close(p); }
    } closer{p};
    if (pcap_datalink(p) != DLT_EN10MB)
        throw PcapError(path + ": link type " + std::to_string(pcap_datalink(p)) + " is not Ethernet");
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    for (;;) {
        const int rc = pcap_next_ex(p, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            break;
        if (rc != 1)
            throw PcapError(path + ": " + pcap_geterr(p));
        const std::uint64_t ts = static_cast<std::uint64_t>(h->ts.tv_sec) * 1000000000ULL +
                                 static_cast<std::uint64_t>(h->ts.tv_usec);
        f(std::span<const std::uint8_t>(data, h->caplen), ts);
    }
}

}  // namespace cats::trafgen
