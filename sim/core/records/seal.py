"""The centre's seal: an Ed25519 signature over a record that leaves the centre, made on the assessor's machine
(where `mesosim seal` verified the record first) and checked by anyone with the centre's public key, no secret
needed. The station's HMAC key proves nothing to an outsider who does not hold it; the seal does, and the private
key never sits on a station.

The seal covers the record's canonical JSON with its HMAC signature (everything but the seal itself)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sim.core.files.atomic import write_atomic
from sim.core.files.safeio import read_bounded
from sim.core.records.signing import canonical_body
from sim.errors import InputError

ALGORITHM = "Ed25519"


def key_id(public: bytes) -> str:
    return hashlib.sha256(b"mesosim centre key\0" + public).hexdigest()[:16]


def new_key(path: Path | str) -> tuple[Path, Path]:
    """Make a centre key: the private key at `path` (PEM, 0600, never overwritten) and the public key beside it
    (`path`.pub: 64 hex digits, to hand to whoever checks sealed records). Returns both paths."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pub_path = path.with_name(path.name + ".pub")
    write_atomic(path, pem, mode=0o600, exclusive=True)
    write_atomic(pub_path, (public.hex() + "\n").encode("ascii"), mode=0o644, exclusive=True)
    return path, pub_path


def load_private(path: Path | str):
    from cryptography.hazmat.primitives import serialization

    data = read_bounded(path, 64 * 1024, "centre key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError.one(str(path), "not a centre key (an Ed25519 private key in PEM, made by mesosim seal "
                             "--new-key)") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise InputError.one(str(path), "not an Ed25519 key")
    return key


def load_public(path: Path | str) -> bytes:
    text = read_bounded(path, 4096, "public key").decode("ascii", "replace").strip()
    try:
        public = bytes.fromhex(text)
    except ValueError:
        public = b""
    if len(public) != 32:
        raise InputError.one(str(path), "not a centre's public key (64 hex digits, the .pub file of mesosim seal "
                             "--new-key)")
    return public


def trusted_keys() -> list[bytes]:
    """The public keys of the centres whose seals are trusted here: the files named by MESOSIM_TRUSTED_KEYS
    (separated by os.pathsep)."""
    names = [p for p in os.environ.get("MESOSIM_TRUSTED_KEYS", "").split(os.pathsep) if p]
    return [load_public(p) for p in names]


def seal(record: dict, private) -> dict:
    from cryptography.hazmat.primitives import serialization

    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    body = canonical_body(record, with_signature=True)
    return {**{k: v for k, v in record.items() if k != "seal"},
            "seal": {"algorithm": ALGORITHM, "key_id": key_id(public), "public_key": public.hex(),
                     "value": private.sign(body).hex()}}


def check_seal(record: dict, trusted: list[bytes]) -> tuple[bool | None, str]:
    """(None, "") without a seal; (True, "sealed by centre KEYID") when it holds with a trusted key; (False, why)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    s = record.get("seal")
    if s is None:
        return None, ""
    if not isinstance(s, dict) or s.get("algorithm") != ALGORITHM:
        return False, "the record's seal is not one mesosim makes"
    try:
        public, value = bytes.fromhex(s.get("public_key", "")), bytes.fromhex(s.get("value", ""))
        Ed25519PublicKey.from_public_bytes(public).verify(value, canonical_body(record, with_signature=True))
    except (ValueError, TypeError, InvalidSignature):
        return False, "the centre's seal does not hold: the record was changed after it was sealed"
    if public not in trusted:
        return False, f"sealed by centre {key_id(public)}, whose public key is not trusted here (MESOSIM_TRUSTED_KEYS)"
    return True, f"sealed by centre {key_id(public)}"
