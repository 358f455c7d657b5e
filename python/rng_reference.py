#!/usr/bin/env python3
"""Independent reference for ndyn's random generator (src/core/rng.c):
splitmix64 seeding of xoshiro256**, with the (seed, stream) mixing that ndyn
documents. Prints the first outputs that tests/test_core.c checks.

    python3 python/rng_reference.py
"""
M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def init(seed, stream):
    _, h = splitmix64(seed & M)
    y = h ^ ((stream * 0xD1B54A32D192ED03 + 0x8BB84B93962EACC9) & M)
    s = []
    for _ in range(4):
        y, v = splitmix64(y)
        s.append(v)
    return s


def next_u64(s):
    result = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


if __name__ == "__main__":
    for seed, stream in [(1, 0), (1, 5), (123456789, 0)]:
        s = init(seed, stream)
        print(seed, stream, [hex(next_u64(s)) for _ in range(3)])
