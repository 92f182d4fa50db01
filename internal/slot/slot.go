// Package slot computes Redis Cluster hash slots.
//
// A key's slot is CRC16(key) mod 16384, where CRC16 is the XMODEM variant
// (polynomial 0x1021, initial value 0). When the key holds a hash tag —
// the bytes between the first '{' and the first '}' after it, provided
// they are not empty — only the tag is hashed, so keys sharing a tag share
// a slot. This is the rule of the Redis Cluster specification.
package slot

// Count is the number of hash slots of a Redis Cluster.
const Count = 16384

var table [256]uint16

func init() {
	for i := range table {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		table[i] = crc
	}
}

// Of returns the hash slot of key.
func Of(key string) int {
	s := Tag(key)
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ table[byte(crc>>8)^s[i]]
	}
	return int(crc % Count)
}

// Tag returns the part of key that decides its slot: the hash tag when
// there is a non-empty one, else the whole key.
func Tag(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key // "{}" is no tag: the whole key is hashed
				}
				return key[i+1 : j]
			}
		}
		return key // '{' without '}'
	}
	return key
}
