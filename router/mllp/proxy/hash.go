package proxy

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// mirrorSalt decorrelates the mirror draw from the canary draw.
	mirrorSalt = 0x5bd1e9955bd1e995
)

// hashAdd folds b into an FNV-1a 64 state.
func hashAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// hashByte folds one byte (used as a separator between key parts).
func hashByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

// fmix64 is MurmurHash3's finaliser: it spreads FNV's state before the modulo.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// bucket maps a hash state to 0..buckets-1.
func bucket(h uint64, buckets uint32) uint32 { return uint32(fmix64(h) % uint64(buckets)) }
