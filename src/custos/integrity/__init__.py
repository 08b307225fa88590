"""Model integrity: signing, verification and baselines on the OpenSSF model signing format.

    from custos.integrity import ExpectedKey, sign, verify, write_key_pair

    keys = write_key_pair(Path("keys"), "release", passphrase)
    sign(Path("models/fraud"), keys.private_key, passphrase)        # -> models/fraud/model.sig
    result = verify(Path("models/fraud"), ExpectedKey(keys.public_key))
    for difference in result.differences:                            # empty when result.ok
        print(difference)                                            # "weights.bin: digest differs"

Signatures are Sigstore bundles made by the `model-signing` library, so `model_signing verify`
accepts them and Custos verifies theirs. See docs/signing.md.
"""

from __future__ import annotations

from custos.integrity.baseline import Baseline, Drift, diff_digests, drift, load, record
from custos.integrity.keys import KeyFiles, generate_key_pair, load_private_key, write_key_pair
from custos.integrity.sign import SignResult, sign, sign_with_certificate, sign_with_sigstore
from custos.integrity.verify import (
    Difference,
    ExpectedCertificate,
    ExpectedKey,
    ExpectedSigstore,
    VerifyResult,
    verify,
)

__all__ = [
    "Baseline",
    "Difference",
    "Drift",
    "ExpectedCertificate",
    "ExpectedKey",
    "ExpectedSigstore",
    "KeyFiles",
    "SignResult",
    "VerifyResult",
    "diff_digests",
    "drift",
    "generate_key_pair",
    "load",
    "load_private_key",
    "record",
    "sign",
    "sign_with_certificate",
    "sign_with_sigstore",
    "verify",
    "write_key_pair",
]
