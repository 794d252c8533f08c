"""A Cognito user pool's signing side, made here: RSA keys, their JWKS entries, and ID tokens
signed with them by `cryptography` (RS256), as Cognito issues them."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
REGION, POOL_ID, CLIENT_ID = "eu-west-1", "eu-west-1_AbCdEf123", "3n4b5urk1ft4fl3mg5fb3v2h1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
OPERATOR = "ops@msp.example"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")), "e": b64(numbers.e.to_bytes(3, "big"))}


KEY, OTHER_KEY = make_key(), make_key()


def token(claims: dict | None = None, *, key=KEY, kid="key-1", header: dict | None = None, **changes) -> str:
    """An ID token of the pool for the dashboard client, valid an hour from NOW, unless changed."""
    body = {"sub": "0b5e-operator", "email": OPERATOR, "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id",
            "iat": int(NOW.timestamp()) - 60, "exp": int(NOW.timestamp()) + 3600, **(claims or {}), **changes}
    head = header or {"kid": kid, "alg": "RS256"}
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(body).encode())}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{b64(signature)}"
