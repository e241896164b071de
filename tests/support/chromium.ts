import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { promisify } from "node:util"

const run = promisify(execFile)

/** Where Debian's Chromium puts its binary (the first that exists wins). */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]

/** Debian's packages a browser test needs: the browser and a CJK font, so Chinese renders in screenshots. */
const PACKAGES = ["chromium", "fonts-wqy-zenhei"]

/** A Chromium to drive, or why there is none. */
export type ChromiumResult = { readonly path: string } | { readonly skip: string }

const found = (): string | undefined => CANDIDATES.find((path) => existsSync(path))

/**
 * Debian's Chromium for browser tests: the installed one, else installed with apt-get when this
 * process is root and apt-get exists (never downloaded any other way). Otherwise a reason to skip,
 * for the test to print. Call it from a `beforeAll` with a long timeout.
 */
export const ensureChromium = async (log: (line: string) => void = () => {}): Promise<ChromiumResult> => {
  const present = found()
  if (present) return { path: present }
  if (process.platform !== "linux" || process.getuid?.() !== 0) return { skip: "Chromium is not installed and this process is not root, so it cannot install Debian's package (apt-get install chromium)" }
  if (!existsSync("/usr/bin/apt-get")) return { skip: "Chromium is not installed and there is no apt-get to install Debian's package" }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const install = () => run("apt-get", ["install", "-y", "--no-install-recommends", ...PACKAGES], { env, maxBuffer: 64 * 1024 * 1024 })
  try {
    log(`installing ${PACKAGES.join(", ")} with apt-get`)
    await install().catch(async () => {
      await run("apt-get", ["update"], { env, maxBuffer: 64 * 1024 * 1024 })
      await install()
    })
  } catch (error) {
    return { skip: `apt-get could not install Chromium: ${(error as Error).message.split("\n").slice(0, 3).join(" ")}` }
  }
  const installed = found()
  return installed ? { path: installed } : { skip: "apt-get finished but no Chromium binary is at /usr/bin/chromium" }
}
