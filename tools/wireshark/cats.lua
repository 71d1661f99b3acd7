-- SPDX-License-Identifier: BSD-3-Clause
-- Wireshark/tshark dissector for cats (proto-defs/SPEC.md, proto-defs/ADVERT.md):
--
--   * the CATS metadata of a packet: the SRH TLV type 124 and the IPv6
--     option 0x1E in a Hop-by-Hop or Destination Options header, with every
--     sub-TLV (SPEC.md 1.1-1.3). A postdissector that walks the frame's IPv6
--     header chain itself (Ethernet, up to two VLAN tags, IPv6 in IPv6), as
--     Wireshark 4.0 shows no SRH TLV contents and no unknown option's data;
--   * the compute-routing advertisements on UDP port 7410 (ADVERT.md): the
--     header, every ADVERTISE or WITHDRAW record, its SIDs and metric TLVs,
--     and the HMAC (shown, not verified: that needs the key).
--
-- Malformed input is flagged as expert info (group Malformed) and in the
-- field cats.error / cats_advert.error with the name the dataplane counts
-- it under (cats_truncated, ...), never a Lua error.
--
--   tshark -X lua_script:tools/wireshark/cats.lua -r capture.pcap -Y cats
--   tshark -X lua_script:tools/wireshark/cats.lua -r capture.pcap -T fields -e cats.cs_id -e cats.encoding
-- or copy it to ~/.local/lib/wireshark/plugins/.

set_plugin_info({version = "0.1.0", description = "cats: CATS metadata and advertisements",
                 repository = "cats/tools/wireshark"})

---------------------------------------------------------------------------
-- CATS metadata (SPEC.md 1)

local cats = Proto("cats", "CATS metadata")

local SUB_NAMES = {[1] = "MAX_LATENCY_US", [2] = "MIN_BANDWIDTH_KBPS", [3] = "COMPUTE_TYPE", [4] = "MIN_SCORE",
                   [5] = "AFFINITY_KEY", [6] = "PRIORITY"}
local SUB_LEN = {[1] = 4, [2] = 4, [3] = 2, [4] = 1, [5] = 8, [6] = 1}
local ENCODINGS = {srh_tlv = "SRH TLV 124", hbh_option = "Hop-by-Hop option 0x1E",
                   doh_option = "Destination option 0x1E"}

local f = cats.fields
f.encoding = ProtoField.string("cats.encoding", "Encoding")
f.version = ProtoField.uint8("cats.version", "Version", base.DEC, nil, 0xF0)
f.flags = ProtoField.uint8("cats.flags", "Flags", base.HEX, nil, 0x0F)
f.strict = ProtoField.bool("cats.strict", "Strict", 8, nil, 0x08)
f.reserved = ProtoField.bytes("cats.reserved", "Reserved")
f.cs_id = ProtoField.uint32("cats.cs_id", "CS-ID", base.DEC)
f.sub_type = ProtoField.uint8("cats.subtlv.type", "Sub-TLV type", base.DEC, SUB_NAMES)
f.sub_len = ProtoField.uint8("cats.subtlv.length", "Sub-TLV length", base.DEC)
f.sub_value = ProtoField.bytes("cats.subtlv.value", "Value")
f.max_latency = ProtoField.uint32("cats.max_latency_us", "Max latency (us)", base.DEC)
f.min_bw = ProtoField.uint32("cats.min_bandwidth_kbps", "Min bandwidth (kbit/s)", base.DEC)
f.compute = ProtoField.uint16("cats.compute_type", "Compute type", base.HEX)
f.cpu = ProtoField.bool("cats.compute_type.cpu", "CPU", 16, nil, 0x0001)
f.gpu = ProtoField.bool("cats.compute_type.gpu", "GPU", 16, nil, 0x0002)
f.npu = ProtoField.bool("cats.compute_type.npu", "NPU", 16, nil, 0x0004)
f.fpga = ProtoField.bool("cats.compute_type.fpga", "FPGA", 16, nil, 0x0008)
f.min_score = ProtoField.uint8("cats.min_score", "Min score", base.DEC)
f.affinity = ProtoField.uint64("cats.affinity_key", "Affinity key", base.HEX)
f.priority = ProtoField.uint8("cats.priority", "Priority", base.DEC)
f.error = ProtoField.string("cats.error", "Error")

local ef_malformed = ProtoExpert.new("cats.malformed", "Malformed CATS metadata", expert.group.MALFORMED,
                                     expert.severity.ERROR)
local ef_unknown = ProtoExpert.new("cats.subtlv.unknown", "Unknown sub-TLV (skipped)", expert.group.UNDECODED,
                                   expert.severity.NOTE)
cats.experts = {ef_malformed, ef_unknown}

local function malformed(tree, range, name, text)
    tree:add(f.error, range, name):set_generated()
    tree:add_proto_expert_info(ef_malformed, name .. ": " .. text)
end

-- One body (SPEC.md 1.3) at tvb(off, len).
local function dissect_body(tvb, off, len, tree, encoding, hdr_range)
    local t = tree:add(cats, hdr_range, "CATS metadata, " .. ENCODINGS[encoding])
    t:add(f.encoding, hdr_range, encoding):set_generated()
    if len < 8 then
        malformed(t, tvb(off, len), "cats_truncated", "body of " .. len .. " bytes, at least 8")
        return
    end
    local first = tvb(off, 1)
    t:add(f.version, first)
    t:add(f.flags, first)
    t:add(f.strict, first)
    t:add(f.reserved, tvb(off + 1, 3))
    t:add(f.cs_id, tvb(off + 4, 4))
    local cs = tvb(off + 4, 4):uint()
    t:append_text(", CS-ID " .. cs)
    if bit32.rshift(first:uint(), 4) ~= 0 then
        malformed(t, first, "cats_bad_version", "version " .. bit32.rshift(first:uint(), 4) .. ", only 0 is known")
    end
    local p, stop = off + 8, off + len
    while p < stop do
        if p + 2 > stop then
            malformed(t, tvb(p, stop - p), "cats_subtlv_overrun", "sub-TLV header past the body")
            return
        end
        local typ, l = tvb(p, 1):uint(), tvb(p + 1, 1):uint()
        if p + 2 + l > stop then
            local st = t:add(cats, tvb(p, stop - p), "Sub-TLV " .. (SUB_NAMES[typ] or typ))
            st:add(f.sub_type, tvb(p, 1))
            st:add(f.sub_len, tvb(p + 1, 1))
            malformed(st, tvb(p, stop - p), "cats_subtlv_overrun",
                      "length " .. l .. ", " .. (stop - p - 2) .. " bytes left in the body")
            return
        end
        local st = t:add(cats, tvb(p, 2 + l), "Sub-TLV " .. (SUB_NAMES[typ] or ("type " .. typ)))
        st:add(f.sub_type, tvb(p, 1))
        st:add(f.sub_len, tvb(p + 1, 1))
        local v = l > 0 and tvb(p + 2, l) or nil
        if SUB_LEN[typ] == nil then
            if v then st:add(f.sub_value, v) end
            st:add_proto_expert_info(ef_unknown)
        elseif l ~= SUB_LEN[typ] then
            if v then st:add(f.sub_value, v) end
            malformed(st, tvb(p, 2 + l), "cats_subtlv_bad_length",
                      SUB_NAMES[typ] .. " of " .. l .. " bytes, expected " .. SUB_LEN[typ])
        elseif typ == 1 then
            st:add(f.max_latency, v)
            st:append_text(": " .. v:uint() .. " us")
        elseif typ == 2 then
            st:add(f.min_bw, v)
            st:append_text(": " .. v:uint() .. " kbit/s")
        elseif typ == 3 then
            local ct = st:add(f.compute, v)
            ct:add(f.cpu, v)
            ct:add(f.gpu, v)
            ct:add(f.npu, v)
            ct:add(f.fpga, v)
            if v:uint() == 0 or bit32.band(v:uint(), 0xFFF0) ~= 0 then
                malformed(st, v, "cats_bad_value", string.format("compute type 0x%04x", v:uint()))
            end
        elseif typ == 4 then
            st:add(f.min_score, v)
            if v:uint() > 10 then
                malformed(st, v, "cats_bad_value", "min score " .. v:uint() .. ", 0..10")
            end
        elseif typ == 5 then
            st:add(f.affinity, v)
        elseif typ == 6 then
            st:add(f.priority, v)
        end
        p = p + 2 + l
    end
end

-- Type-length-value items from p to stop, where type 0 is a one-byte Pad1
-- (RFC 8200 4.2 options, RFC 8754 2.1 SRH TLVs): the CATS body of each
-- item of type `wanted`. An item that runs past the end ends the walk
-- (Wireshark's IPv6 dissector flags those).
local function walk_tlvs(tvb, p, stop, wanted, tree, encoding)
    while p < stop do
        local typ = tvb(p, 1):uint()
        if typ == 0 then          -- Pad1
            p = p + 1
        else
            if p + 2 > stop then return end
            local l = tvb(p + 1, 1):uint()
            if p + 2 + l > stop then return end
            if typ == wanted then
                dissect_body(tvb, p + 2, l, tree, encoding, tvb(p, 2 + l))
            end
            p = p + 2 + l
        end
    end
end

-- Options of a Hop-by-Hop or Destination Options header at tvb(off, len).
local function dissect_options(tvb, off, len, tree, encoding)
    walk_tlvs(tvb, off + 2, off + len, 0x1E, tree, encoding)
end

-- The TLVs of an SRH at tvb(off, len), after its segment list.
local function dissect_srh(tvb, off, len, tree)
    if len < 8 then return end
    walk_tlvs(tvb, off + 8 + 16 * (tvb(off + 4, 1):uint() + 1), off + len, 124, tree, "srh_tlv")
end

-- The IPv6 header at `ip` and its extension headers; into IPv6 in IPv6.
local function dissect_ipv6(tvb, ip, tree, depth)
    local avail = tvb:len()
    if depth > 2 or ip + 40 > avail or bit32.rshift(tvb(ip, 1):uint(), 4) ~= 6 then return end
    local nh = tvb(ip + 6, 1):uint()
    local stop = math.min(avail, ip + 40 + tvb(ip + 4, 2):uint())
    local p, seen = ip + 40, 0
    while seen < 8 do
        seen = seen + 1
        if nh == 41 then
            return dissect_ipv6(tvb, p, tree, depth + 1)
        elseif nh == 0 or nh == 60 or nh == 43 or nh == 44 or nh == 51 then
            if p + 2 > stop then return end
            local len
            if nh == 44 then len = 8
            elseif nh == 51 then len = (tvb(p + 1, 1):uint() + 2) * 4
            else len = (tvb(p + 1, 1):uint() + 1) * 8 end
            if p + len > stop then return end
            if nh == 0 then
                dissect_options(tvb, p, len, tree, "hbh_option")
            elseif nh == 60 then
                dissect_options(tvb, p, len, tree, "doh_option")
            elseif nh == 43 and tvb(p + 2, 1):uint() == 4 then
                dissect_srh(tvb, p, len, tree)
            end
            nh = tvb(p, 1):uint()
            p = p + len
        else
            return
        end
    end
end

function cats.dissector(tvb, pinfo, tree)
    if tvb:len() < 54 then return end
    local off, etype = 12, tvb(12, 2):uint()
    for _ = 1, 2 do
        if etype == 0x8100 or etype == 0x88A8 then
            off = off + 4
            if off + 2 > tvb:len() then return end
            etype = tvb(off, 2):uint()
        end
    end
    if etype ~= 0x86DD then return end
    dissect_ipv6(tvb, off + 2, tree, 0)
end

register_postdissector(cats)

---------------------------------------------------------------------------
-- Advertisements (ADVERT.md)

local adv = Proto("cats_advert", "CATS compute-routing advertisement")
local ADV_TYPES = {[1] = "ADVERTISE", [2] = "WITHDRAW"}
local METRIC_NAMES = {[1] = "LOAD_PCT", [2] = "FREE_CAPACITY", [3] = "QUEUE_DELAY_US", [4] = "BANDWIDTH_KBPS",
                      [5] = "L2_SCORE", [6] = "COMPUTE_TYPES", [7] = "WEIGHT", [8] = "LATENCY_US"}
local METRIC_LEN = {[1] = 1, [2] = 4, [3] = 4, [4] = 4, [5] = 1, [6] = 2, [7] = 4, [8] = 4}

local a = adv.fields
a.magic = ProtoField.uint32("cats_advert.magic", "Magic", base.HEX)
a.version = ProtoField.uint8("cats_advert.version", "Version", base.DEC)
a.type = ProtoField.uint8("cats_advert.type", "Type", base.DEC, ADV_TYPES)
a.length = ProtoField.uint16("cats_advert.length", "Length", base.DEC)
a.key_id = ProtoField.uint16("cats_advert.key_id", "Key ID", base.DEC)
a.reserved = ProtoField.uint16("cats_advert.reserved", "Reserved", base.HEX)
a.node_id = ProtoField.uint32("cats_advert.node_id", "Node ID", base.DEC)
a.sequence = ProtoField.uint64("cats_advert.sequence", "Sequence", base.DEC)
a.lifetime = ProtoField.uint16("cats_advert.lifetime", "Lifetime (s)", base.DEC)
a.count = ProtoField.uint16("cats_advert.record_count", "Record count", base.DEC)
a.cs_id = ProtoField.uint32("cats_advert.cs_id", "CS-ID", base.DEC)
a.instance = ProtoField.uint32("cats_advert.instance_id", "Instance ID", base.DEC)
a.n_sids = ProtoField.uint8("cats_advert.n_sids", "SIDs", base.DEC)
a.rec_reserved = ProtoField.uint8("cats_advert.record_reserved", "Reserved", base.HEX)
a.metrics_len = ProtoField.uint16("cats_advert.metrics_length", "Metrics length", base.DEC)
a.sid = ProtoField.ipv6("cats_advert.sid", "SID")
a.metric_type = ProtoField.uint8("cats_advert.metric.type", "Metric type", base.DEC, METRIC_NAMES)
a.metric_len = ProtoField.uint8("cats_advert.metric.length", "Metric length", base.DEC)
a.metric_value = ProtoField.bytes("cats_advert.metric.value", "Value")
a.load = ProtoField.uint8("cats_advert.load_pct", "Load (%)", base.DEC)
a.free = ProtoField.uint32("cats_advert.free_capacity", "Free capacity", base.DEC)
a.queue = ProtoField.uint32("cats_advert.queue_delay_us", "Queue delay (us)", base.DEC)
a.bw = ProtoField.uint32("cats_advert.bandwidth_kbps", "Bandwidth (kbit/s)", base.DEC)
a.score = ProtoField.uint8("cats_advert.l2_score", "L2 score", base.DEC)
a.ctypes = ProtoField.uint16("cats_advert.compute_types", "Compute types", base.HEX)
a.weight = ProtoField.uint32("cats_advert.weight", "Weight", base.DEC)
a.latency = ProtoField.uint32("cats_advert.latency_us", "Latency (us)", base.DEC)
a.mac = ProtoField.bytes("cats_advert.hmac", "HMAC-SHA256 (not verified)")
a.error = ProtoField.string("cats_advert.error", "Error")

local METRIC_FIELDS = {[1] = a.load, [2] = a.free, [3] = a.queue, [4] = a.bw, [5] = a.score, [6] = a.ctypes,
                       [7] = a.weight, [8] = a.latency}

local ef_adv = ProtoExpert.new("cats_advert.malformed", "Malformed CATS advertisement", expert.group.MALFORMED,
                               expert.severity.ERROR)
local ef_adv_unknown = ProtoExpert.new("cats_advert.metric.unknown", "Unknown metric (skipped)",
                                       expert.group.UNDECODED, expert.severity.NOTE)
adv.experts = {ef_adv, ef_adv_unknown}

local function adv_bad(tree, range, name, text)
    tree:add(a.error, range, name):set_generated()
    tree:add_proto_expert_info(ef_adv, name .. ": " .. text)
end

-- The metric TLVs of a record at tvb(off, len).
local function dissect_metrics(tvb, off, len, tree)
    local p, stop = off, off + len
    while p < stop do
        if p + 2 > stop then
            return adv_bad(tree, tvb(p, stop - p), "bad_record", "metric header past Metrics Length")
        end
        local typ, l = tvb(p, 1):uint(), tvb(p + 1, 1):uint()
        if p + 2 + l > stop then
            return adv_bad(tree, tvb(p, stop - p), "bad_record", "metric of " .. l .. " bytes past Metrics Length")
        end
        local mt = tree:add(adv, tvb(p, 2 + l), "Metric " .. (METRIC_NAMES[typ] or ("type " .. typ)))
        mt:add(a.metric_type, tvb(p, 1))
        mt:add(a.metric_len, tvb(p + 1, 1))
        if METRIC_LEN[typ] == nil then
            if l > 0 then mt:add(a.metric_value, tvb(p + 2, l)) end
            mt:add_proto_expert_info(ef_adv_unknown)
        elseif l ~= METRIC_LEN[typ] then
            if l > 0 then mt:add(a.metric_value, tvb(p + 2, l)) end
            adv_bad(mt, tvb(p, 2 + l), "bad_record", METRIC_NAMES[typ] .. " of " .. l .. " bytes, expected " ..
                                                      METRIC_LEN[typ])
        else
            local v = tvb(p + 2, l)
            mt:add(METRIC_FIELDS[typ], v)
            mt:append_text(": " .. v:uint())
            if (typ == 1 and v:uint() > 100) or (typ == 5 and v:uint() > 10) or
               (typ == 6 and bit32.band(v:uint(), 0xFFF0) ~= 0) then
                adv_bad(mt, v, "bad_record", METRIC_NAMES[typ] .. " " .. v:uint() .. " out of range")
            end
        end
        p = p + 2 + l
    end
end

function adv.dissector(tvb, pinfo, tree)
    local n = tvb:len()
    if n < 4 or tvb(0, 4):uint() ~= 0x43415441 then return 0 end
    pinfo.cols.protocol = "CATS-ADV"
    local t = tree:add(adv, tvb(), "CATS compute-routing advertisement")
    t:add(a.magic, tvb(0, 4))
    if n < 28 then
        adv_bad(t, tvb(), "truncated", n .. " bytes, a header is 28")
        return n
    end
    local typ = tvb(5, 1):uint()
    t:add(a.version, tvb(4, 1))
    t:add(a.type, tvb(5, 1))
    local lf = t:add(a.length, tvb(6, 2))
    t:add(a.key_id, tvb(8, 2))
    t:add(a.reserved, tvb(10, 2))
    t:add(a.node_id, tvb(12, 4))
    t:add(a.sequence, tvb(16, 8))
    t:add(a.lifetime, tvb(24, 2))
    t:add(a.count, tvb(26, 2))
    local count = tvb(26, 2):uint()
    pinfo.cols.info = string.format("%s node %u key %u seq %s, %u record(s)", ADV_TYPES[typ] or ("type " .. typ),
                                    tvb(12, 4):uint(), tvb(8, 2):uint(), tostring(tvb(16, 8):uint64()), count)
    if tvb(4, 1):uint() ~= 0 then
        adv_bad(t, tvb(4, 1), "bad_version", "version " .. tvb(4, 1):uint())
        return n
    end
    if ADV_TYPES[typ] == nil then
        adv_bad(t, tvb(5, 1), "bad_type", "type " .. typ)
        return n
    end
    if tvb(6, 2):uint() ~= n or n < 60 then
        adv_bad(lf, tvb(6, 2), n < 60 and "truncated" or "bad_length",
                "Length " .. tvb(6, 2):uint() .. ", datagram " .. n .. " bytes (at least 60)")
        return n
    end
    local p, stop = 28, n - 32
    for i = 1, count do
        if typ == 2 then
            if p + 8 > stop then
                adv_bad(t, tvb(p, stop - p), "truncated", "WITHDRAW record " .. i .. " past the records")
                break
            end
            local r = t:add(adv, tvb(p, 8), "WITHDRAW CS-ID " .. tvb(p, 4):uint() .. " instance " ..
                                                tvb(p + 4, 4):uint())
            r:add(a.cs_id, tvb(p, 4))
            r:add(a.instance, tvb(p + 4, 4))
            p = p + 8
        else
            if p + 12 > stop then
                adv_bad(t, tvb(p, stop - p), "truncated", "ADVERTISE record " .. i .. " past the records")
                break
            end
            local ns, ml = tvb(p + 8, 1):uint(), tvb(p + 10, 2):uint()
            local size = 12 + 16 * ns + ml
            if p + size > stop then
                adv_bad(t, tvb(p, stop - p), "truncated", "record " .. i .. " of " .. size .. " bytes past the records")
                break
            end
            local r = t:add(adv, tvb(p, size), "ADVERTISE CS-ID " .. tvb(p, 4):uint() .. " instance " ..
                                                   tvb(p + 4, 4):uint())
            r:add(a.cs_id, tvb(p, 4))
            r:add(a.instance, tvb(p + 4, 4))
            r:add(a.n_sids, tvb(p + 8, 1))
            r:add(a.rec_reserved, tvb(p + 9, 1))
            r:add(a.metrics_len, tvb(p + 10, 2))
            if ns < 1 or ns > 5 then
                adv_bad(r, tvb(p + 8, 1), "bad_record", ns .. " SIDs, 1..5")
            end
            for k = 0, ns - 1 do
                r:add(a.sid, tvb(p + 12 + 16 * k, 16))
            end
            dissect_metrics(tvb, p + 12 + 16 * ns, ml, r)
            p = p + size
        end
    end
    if p < stop then
        adv_bad(t, tvb(p, stop - p), "bad_length", (stop - p) .. " bytes after the last record")
    end
    t:add(a.mac, tvb(n - 32, 32))
    return n
end

local adv_port = 7410
adv.prefs.port = Pref.uint("UDP port", adv_port, "UDP port of the advertisements (cats-control's listen port)")
function adv.prefs_changed()
    DissectorTable.get("udp.port"):remove(adv_port, adv)
    adv_port = adv.prefs.port
    DissectorTable.get("udp.port"):add(adv_port, adv)
end
DissectorTable.get("udp.port"):add(adv_port, adv)
