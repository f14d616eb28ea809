#!/usr/bin/env python3
"""Turns the BIP39 word list (one word per line) into a C++ initializer list."""
import hashlib
import sys

EXPECTED_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"

src, dst = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
if hashlib.sha256(raw).hexdigest() != EXPECTED_SHA256:
    sys.exit(f"{src}: SHA-256 does not match the BIP39 English list")
words = raw.decode("ascii").split()
if len(words) != 2048:
    sys.exit(f"{src}: expected 2048 words, found {len(words)}")
with open(dst, "w") as out:
    out.write("// Generated from data/bip39-english.txt by lib/keys/gen_wordlist.py. Do not edit.\n")
    for w in words:
        out.write(f'"{w}",\n')
