#!/usr/bin/python3
"""make_out_seeds: writes the hand-made seeds of fuzz_out under tests/fuzz/corpus/out.

usage: make_out_seeds.py CORPUSDIR

Each seed is an obligation in the byte layout fuzz_out.c's build() reads (big-endian numbers,
strings as a 16-bit length and bytes): the four kinds of out message as the pipeline makes
them (docs/CONTRACT.md's examples), and the edges the encoder must survive (invalid UTF-8 and
NUL in names, buffers filled to the last byte, dates and times at and past the format's ends).
"""

import datetime
import os
import struct
import sys

EPOCH = datetime.date(1970, 1, 1)


def u8(v):
    return struct.pack(">B", v & 0xFF)


def u16(v):
    return struct.pack(">H", v & 0xFFFF)


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def s(b, cap):
    if isinstance(b, str):
        b = b.encode()
    assert len(b) < cap, (b, cap)
    return u16(len(b)) + b


def raw_date(days):
    """A date as a raw int32 (build() reads an even word as it is)."""
    v = days & 0xFFFFFFFF
    assert v % 2 == 0, days
    return struct.pack(">I", v)


def date(iso):
    """An ordinary date (build() maps an odd word to 18000 + (v >> 1) % 40000)."""
    days = (datetime.date.fromisoformat(iso) - EPOCH).days
    assert 18000 <= days < 58000, iso
    return struct.pack(">I", ((days - 18000) << 1) | 1)


def instant(iso):
    return u64(int(datetime.datetime.fromisoformat(iso).timestamp()))


# buffer sizes of struct obligation (event.h, uscc.h)
USCC, LIST, DNO, PROD, NAME, UUID = 19, 65, 129, 65, 401, 37
SITES = {"creditchina": 0, "gsxt": 1}
TYPES = {"disclose": 0, "takedown": 1, "mutual_recognition": 2}
REASONS = {None: 0, "repaired": 1, "removed": 2, "revoked": 3, "expired": 4,
           "light_expired": 5, "not_disclosable": 6}
KINDS = {"penalty": 0, "abnormal": 1, "serious": 2}
CATS = {"warning": 0, "fine": 2, "confiscation": 3}
FIELDS = {"other": 0, "food": 1}
SEVS = {None: 0, "minor": 1, "general": 2, "serious": 3}


def obligation(site="creditchina", type_="disclose", reason=None, kind="penalty",
               uscc="91150102MA0N123408", list_="", decision_no="呼税罚〔2024〕12号",
               producer="nm-tax", name="呼和浩特某某商贸有限公司",
               disclose_until=None, repairable_from=None, rec_system="creditchina",
               rec_decision_no="", rec_repair_decision_no="", rec_repaired_on=None,
               decided_on=None, categories=("fine",), field="other", fine_fen=None,
               severity=None, issuer_name="国家税务总局呼和浩特市税务局",
               issuer_uscc="11150100MB0123456P", channel=None,
               source_event_id="6f1c1a52-8d0e-4a3c-9a55-0c2a4e1f7b10",
               received_at="2024-05-06T10:15:00+08:00", due_date=None):
    none = raw_date(-(2 ** 31))

    def d(v):
        if v is None:
            return none
        return raw_date(v) if isinstance(v, int) else date(v)

    mask = 0
    for c in categories:
        mask |= 1 << CATS[c]
    out = u8(SITES[site]) + u8(TYPES[type_]) + u8(REASONS[reason]) + u8(KINDS[kind])
    out += s(uscc, USCC) + s(list_, LIST) + s(decision_no, DNO) + s(producer, PROD)
    out += s(name, NAME) + d(disclose_until) + d(repairable_from)
    out += u8(SITES[rec_system]) + s(rec_decision_no, DNO) + s(rec_repair_decision_no, DNO)
    out += d(rec_repaired_on) + d(decided_on) + u16(mask) + u8(FIELDS[field])
    out += u8(fine_fen is not None) + u64(fine_fen or 0) + u8(SEVS[severity])
    out += s(issuer_name, NAME) + s(issuer_uscc, USCC)
    out += u8(0 if channel is None else 1 | SITES[channel] << 1)
    out += s(source_event_id, UUID)
    out += received_at if isinstance(received_at, bytes) else instant(received_at)
    out += d(due_date)
    return out


SEEDS = {
    "disclose-penalty": obligation(
        disclose_until="2027-05-06", repairable_from="2024-08-07", decided_on="2024-05-06",
        categories=("fine", "confiscation"), fine_fen=20000000, due_date="2024-05-07",
        channel="creditchina"),
    "disclose-list": obligation(
        site="gsxt", kind="abnormal", list_="abnormal-enterprise",
        decision_no="呼市监异〔2024〕88号", producer="nm-samr", decided_on="2024-03-01",
        categories=(), issuer_name="", issuer_uscc="", due_date="2024-09-14"),
    "takedown-expired": obligation(
        type_="takedown", reason="expired", source_event_id="", due_date="2027-05-07"),
    "takedown-light-expired": obligation(
        site="gsxt", type_="takedown", reason="light_expired", producer="nm-samr",
        due_date="2024-08-07"),
    "mutual-recognition": obligation(
        site="gsxt", type_="mutual_recognition", rec_system="creditchina",
        rec_decision_no="呼税罚〔2024〕12号", rec_repair_decision_no="信修〔2024〕3号",
        rec_repaired_on="2024-09-13", due_date="2024-09-14"),
    "invalid-utf8-and-nul": obligation(
        name=b"\xe5\x91\xbc\xff\xfe\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80x\x00hidden",
        decision_no=b"\xe3\x80", issuer_name=b"\xf0\x9f\x98", producer=b"\x80",
        fine_fen=10 ** 17 - 1, decided_on="2024-05-06", due_date="2024-05-07"),
    "buffers-full": obligation(
        uscc="9" * 18, decision_no="号" * 42 + "x" * 2, name="名" * 133 + "x",
        producer="p" * 64, issuer_name="局" * 133 + "y", issuer_uscc="1" * 18,
        source_event_id="f" * 36, fine_fen=1, due_date="2024-05-07"),
    "dates-at-the-ends": obligation(
        disclose_until=(datetime.date(9999, 12, 31) - EPOCH).days,
        repairable_from=(datetime.date(1, 1, 1) - EPOCH).days,
        decided_on=2 ** 31 - 2, due_date=-(2 ** 31) + 2,
        received_at=u64(253402300799 - 8 * 3600)),
    "time-past-the-end": obligation(received_at=u64(2 ** 63 - 1), due_date=0),
    "time-before-the-start": obligation(received_at=u64(-(2 ** 63)), due_date=2),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(sys.argv[1], "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
