/** A bench's settings, writable: its defaults' shape. */
export type BenchSettings<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A bench's settings: `defaults`, each overridden by `--kebab-name value` in `args` (parsed as a
 * number where the default is one). Use at the top of a bench's `main`.
 */
export const benchSettings = <T extends Record<string, unknown>>(defaults: T, args: readonly string[]): BenchSettings<T> => {
  const settings = { ...defaults } as BenchSettings<T>
  for (const key of Object.keys(defaults)) {
    const at = args.indexOf(`--${key.replaceAll("_", "-")}`)
    if (at === -1) continue
    const raw = args[at + 1]!
    ;(settings as Record<string, unknown>)[key] = typeof defaults[key] === "number" ? Number(raw) : raw
  }
  return settings
}
