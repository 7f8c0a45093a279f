"""VietQR payloads (NAPAS's profile of the EMVCo merchant-presented QR), standard library only: the text a
banking app reads from the QR image of a bank account, an amount and a transfer memo.

Fields: 00 payload format "01"; 01 point of initiation "11" (static, no amount) or "12" (dynamic, with an
amount); 38 merchant account: 00 NAPAS's GUID "A000000727", 01 the beneficiary (00 the bank's 6-digit BIN,
01 the account number), 02 the service "QRIBFTTA" (transfer to an account); 53 currency "704" (VND);
54 amount; 58 country "VN"; 62 additional data, 08 purpose (the memo); 63 CRC-16/CCITT-FALSE of everything
before it, "6304" included, as 4 uppercase hex digits.
"""

from __future__ import annotations

NAPAS_GUID = "A000000727"
TRANSFER_TO_ACCOUNT = "QRIBFTTA"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"VietQR field {tag} is longer than 99 characters.")
    return f"{tag}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as EMVCo asks."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def vietqr_payload(*, bank_bin: str, account: str, amount: int | None = None, memo: str = "") -> str:
    """The payload of a transfer to `account` at the bank `bank_bin`; `amount` in whole VND (none: the
    payer types it), `memo` what the transfer's content should carry."""
    if not (len(bank_bin) == 6 and bank_bin.isdigit()):
        raise ValueError("A bank BIN is 6 digits.")
    if not account:
        raise ValueError("The account number is missing.")
    beneficiary = _field("00", bank_bin) + _field("01", account)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", TRANSFER_TO_ACCOUNT)
    parts = [_field("00", "01"), _field("01", "12" if amount else "11"), _field("38", merchant)]
    parts.append(_field("53", "704"))
    if amount:
        parts.append(_field("54", str(int(amount))))
    parts.append(_field("58", "VN"))
    if memo:
        parts.append(_field("62", _field("08", memo)))
    body = "".join(parts) + "6304"
    return body + crc16(body)


def parse_fields(payload: str) -> dict[str, str]:
    """The top-level fields of a payload (tag to value), for tests and the fake bank's page."""
    fields, at = {}, 0
    while at < len(payload):
        tag, size = payload[at : at + 2], int(payload[at + 2 : at + 4])
        fields[tag] = payload[at + 4 : at + 4 + size]
        at += 4 + size
    return fields
