"""Machine-code builders and parsers: ICAO TD3 sample, the EEP CS/CD line and the reconstructed MTP block."""

from datetime import date

import pytest

from ocr_providers.checkdigits import icao_check_digit
from ocr_providers.machine_codes import (
    MachineCodeError,
    build_eep,
    build_mtp,
    build_td3,
    gbk_letters,
    gbk_letters_decode,
    parse_eep,
    parse_mtp,
    parse_td3,
)

ICAO_L1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
ICAO_L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_td3_builder_reproduces_icao_sample():
    lines = build_td3(
        issuing_state="UTO",
        surname="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="L898902C3",
        nationality="UTO",
        birth_date=date(1974, 8, 12),
        sex="F",
        expiry_date=date(2012, 4, 15),
        optional="ZE184226B",
    )
    assert lines == (ICAO_L1, ICAO_L2)


def test_td3_parser_reads_icao_sample():
    code = parse_td3(f"{ICAO_L1}\n{ICAO_L2}")
    assert code.valid
    assert code.fields["surname"] == "ERIKSSON"
    assert code.fields["given_names"] == "ANNA MARIA"
    assert code.fields["document_number"] == "L898902C3"
    assert code.fields["birth_date"] == "1974-08-12"
    assert code.fields["expiry_date"] == "2012-04-15"
    assert code.fields["sex"] == "F"
    assert code.fields["optional"] == "ZE184226B"


def test_td3_parser_flags_a_wrong_check_digit_without_raising():
    bad = ICAO_L2[:9] + "7" + ICAO_L2[10:]
    code = parse_td3([ICAO_L1, bad])
    assert not code.valid
    assert code.checks["document_number"] is False
    assert code.checks["birth_date"] is True


@pytest.mark.parametrize("text", ["", ICAO_L1, ICAO_L1 + "\n" + ICAO_L2[:-1], ICAO_L1 + "\n" + ICAO_L2.lower()])
def test_td3_parser_rejects_wrong_shape(text):
    with pytest.raises(MachineCodeError):
        parse_td3(text)


def test_eep_line_structure_and_check_digits():
    line = build_eep(document_number="C88608477", expiry_date=date(2028, 8, 9), birth_date=date(1995, 12, 20))
    assert len(line) == 30
    assert line.startswith("CSC88608477" + "2<")  # number check digit 2, as in the masked Aliyun sample
    assert line[12] == line[20] == line[28] == "<"
    assert line[13:19] == "280809"
    assert line[19] == icao_check_digit("280809")
    assert line[21:27] == "951220"
    assert line[29] == icao_check_digit(line[2:12] + line[13:20] + line[21:28])
    code = parse_eep(line)
    assert code.valid
    assert code.fields == {
        "document_code": "CS",
        "document_number": "C88608477",
        "expiry_date": "2028-08-09",
        "birth_date": "1995-12-20",
    }


def test_eep_parser_flags_the_published_invalid_example():
    code = parse_eep("CSC319123452<6012032<7012214<2")
    assert not code.valid
    assert code.checks["document_number"] is False


def test_eep_parser_rejects_other_codes():
    with pytest.raises(MachineCodeError):
        parse_eep("CRC319123452<6012032<7012214<2")


def test_mtp_block_round_trips():
    lines = build_mtp(
        document_number="H12345678",
        expiry_date=date(2031, 3, 4),
        birth_date=date(1988, 7, 1),
        name_zh="陈大文",
        sex="M",
        issue_times="03",
        surname="CHAN",
        given_names="TAI MAN",
    )
    assert [len(x) for x in lines] == [30, 30, 30]
    assert lines[2] == "CHAN<<TAI<MAN" + "<" * 17
    code = parse_mtp("\n".join(lines))
    assert code.valid, code.checks
    assert code.fields["name_zh"] == "陈大文"
    assert code.fields["document_number"] == "H12345678"
    assert code.fields["issue_times"] == "03"
    assert code.fields["sex"] == "M"
    assert (code.fields["surname"], code.fields["given_names"]) == ("CHAN", "TAI MAN")


def test_gbk_letters_match_the_documented_example():
    assert gbk_letters("证") == "NGKE"
    assert gbk_letters_decode("NGKE<<<<") == "证"
    assert gbk_letters_decode("NGK") is None
