let table: Float32Array | undefined

/** Float32 value of every IEEE half-precision bit pattern, built once. */
const halfTable = (): Float32Array => {
  if (table) return table
  table = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const exponent = (h >> 10) & 0x1f
    const mantissa = h & 0x3ff
    table[h] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 31
          ? mantissa ? NaN : sign * Infinity
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
  }
  return table
}

/**
 * Widens float16 bits (as ONNX Runtime returns them, a Uint16Array) to float32. Use on
 * float16 logits before sampling; a lookup table makes it one load per element.
 */
export const halfToFloat = (bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array => {
  const t = halfTable()
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!
  return out
}
