// The direct-upload example in a real browser: headless Chromium (Debian's package) driven over
// the DevTools protocol by playwright-core, against `serve_uploads --test-hooks` and its
// in-process emulator. `cargo xtask conformance` runs it and reads the closing line,
// `browser: N passed, M failed`.
//
// Environment (set by xtask): SERVE_UPLOADS_BIN (the example binary), CHROMIUM (the browser),
// BROWSER_DRIVER_DIR (the folder whose node_modules holds playwright-core), BROWSER_OUT_DIR
// (screenshots and the throwaway profile go here).

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`browser: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const serverBin = env("SERVE_UPLOADS_BIN");
const chromiumPath = env("CHROMIUM");
const driverDir = env("BROWSER_DRIVER_DIR");
const outDir = env("BROWSER_OUT_DIR");
const { chromium } = createRequire(path.resolve(driverDir, "package.json"))("playwright-core");

const MiB = 1024 * 1024;
// Each wait is bounded; the whole run is bounded too, so a hung browser cannot stall CI.
const STEP_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 150_000;
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* best effort while stopping */ }
  }
}
const watchdog = setTimeout(async () => {
  console.error(`browser: the run exceeded ${RUN_TIMEOUT_MS / 1000} s; stopping`);
  console.log("browser: 0 passed, 1 failed");
  await cleanup();
  process.exit(1);
}, RUN_TIMEOUT_MS);

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function md5Hex(buf) {
  return createHash("md5").update(buf).digest("hex").toUpperCase();
}

/** Starts the example and resolves with its app URL and OSS endpoint from its first lines. */
function startServer() {
  const child = spawn(serverBin, ["--test-hooks"], { stdio: ["ignore", "pipe", "inherit"] });
  cleanups.push(() => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  }));
  return new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error("serve_uploads did not print its address")), STEP_TIMEOUT_MS);
    child.once("exit", (code) => reject(new Error(`serve_uploads exited (${code}) before it was ready`)));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const app = line.match(/^serve-uploads listening on (\S+)$/);
      const oss = line.match(/^serve-uploads oss endpoint (\S+)$/);
      if (app) found.app = app[1];
      if (oss) found.oss = oss[1];
      if (found.app && found.oss) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
}

async function getJson(url) {
  const resp = await fetch(url, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  check(resp.ok, `GET ${url}: ${resp.status}`);
  return resp.json();
}

/** The object as a plain GET (presigned by the app) sees it. */
async function getObject(app, key) {
  const { url } = await getJson(`${app}/__test/presign?key=${encodeURIComponent(key)}`);
  const resp = await fetch(url, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  return { status: resp.status, etag: resp.headers.get("etag"), body: Buffer.from(await resp.arrayBuffer()) };
}

/** Opens the page, picks `file`, clicks upload and waits until the page says how it ended. */
async function uploadThroughPage(context, url, file, { tamperKey } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  if (tamperKey) {
    // What a user with devtools can do: rewrite the form's `key` before it is sent.
    await page.addInitScript((key) => {
      const append = FormData.prototype.append;
      FormData.prototype.append = function (name, value, ...rest) {
        return append.call(this, name, name === "key" ? key : value, ...rest);
      };
    }, tamperKey);
  }
  await page.goto(url);
  await page.setInputFiles("#file", file);
  await page.click("#upload");
  await page.waitForSelector('#status[data-state="done"], #status[data-state="failed"]');
  const state = await page.getAttribute("#status", "data-state");
  const text = async (sel) => (await page.textContent(sel))?.trim() ?? "";
  return {
    page,
    state,
    progress: Number(await page.getAttribute("#progress", "value")),
    answer: {
      object: await text("#r-object"),
      size: await text("#r-size"),
      etag: await text("#r-etag"),
      message: await text("#r-message"),
    },
    error: {
      visible: await page.isVisible("#error"),
      code: await text("#e-code"),
      message: await text("#e-message"),
      status: await text("#e-status"),
    },
  };
}

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

test("a 5 MiB file goes from the page to OSS and the handler's answer is shown", async (t) => {
  const bytes = randomBytes(5 * MiB);
  // The callback's ${etag} is OSS's ETag without its quotes.
  const etag = md5Hex(bytes);
  const key = "users/alice/photo-5mib.bin";
  const logBefore = (await getJson(`${t.oss}/__emulator/requests`)).length;
  const r = await uploadThroughPage(t.context, `${t.app}/`, {
    name: "photo-5mib.bin", mimeType: "application/octet-stream", buffer: bytes,
  });
  check(r.state === "done", `page failed: ${r.error.code} ${r.error.message}`);
  check(r.answer.object === key, `object ${r.answer.object}`);
  check(r.answer.size === `${5 * MiB} bytes`, `size ${r.answer.size}`);
  check(r.answer.etag === etag, `etag ${r.answer.etag}, expected ${etag}`);
  check(r.answer.message.startsWith("Thanks alice: "), `message ${r.answer.message}`);
  check(r.progress === 100, `progress bar at ${r.progress}`);
  mkdirSync(outDir, { recursive: true });
  await r.page.screenshot({ path: path.join(outDir, "form-upload.png"), fullPage: true });

  await r.page.close();
  const got = await getObject(t.app, key);
  check(got.status === 200, `GET ${key}: ${got.status}`);
  check(got.body.equals(bytes), `GET ${key}: ${got.body.length} bytes, not the uploaded ones`);
  check(got.etag === `"${etag}"`, `GET ${key}: ETag ${got.etag}`);

  const log = (await getJson(`${t.oss}/__emulator/requests`)).slice(logBefore);
  const preflight = log.findIndex((e) => e.method === "OPTIONS" && e.status === 200);
  const post = log.findIndex((e) => e.operation === "PostObject" && e.key === key && e.status === 200);
  check(preflight >= 0, `no OPTIONS preflight in the request log: ${JSON.stringify(log)}`);
  check(post > preflight, `no PostObject after the preflight: ${JSON.stringify(log)}`);

  const delivered = (await getJson(`${t.oss}/__emulator/callbacks`))
    .filter((c) => JSON.stringify(c).includes(key));
  check(delivered.length === 1, `callbacks for ${key}: ${JSON.stringify(delivered)}`);
  const handled = (await getJson(`${t.app}/__test/handled`)).filter((h) => h.object === key);
  check(handled.length === 1, `the kit's handler saw ${handled.length} callbacks for ${key}`);
  check(handled[0].etag === etag && handled[0].size === 5 * MiB, JSON.stringify(handled[0]));
});

/** A refusal: the page shows OSS's error, the PostObject is refused, and nothing is stored. */
async function refused(t, { query = "", name, size, tamperKey, storedKey, code, status, message }) {
  const countPosts = (log, ok) => log.filter((e) => e.operation === "PostObject"
    && (ok ? e.status < 300 : e.status >= 400)).length;
  const before = await getJson(`${t.oss}/__emulator/requests`);
  const r = await uploadThroughPage(t.context, `${t.app}/${query}`, {
    name, mimeType: "application/octet-stream", buffer: randomBytes(size),
  }, { tamperKey });
  check(r.state === "failed", `page says ${r.state}: ${JSON.stringify(r.answer)}`);
  check(r.error.visible, "the error box is hidden");
  check(r.error.code === code, `code ${r.error.code}, expected ${code} (${r.error.message})`);
  check(r.error.status === String(status), `status ${r.error.status}, expected ${status}`);
  check(r.error.message.includes(message), `message ${JSON.stringify(r.error.message)}`);
  const after = await getJson(`${t.oss}/__emulator/requests`);
  check(countPosts(after, false) === countPosts(before, false) + 1, "no refused PostObject in the log");
  check(countPosts(after, true) === countPosts(before, true), "a PostObject succeeded");
  await r.page.close();
  const got = await getObject(t.app, storedKey);
  check(got.status === 404, `GET ${storedKey}: ${got.status}, expected 404`);
}

test("a 5 MiB file under a 2 MiB limit is refused and not stored", (t) => refused(t, {
  query: `?max_size=${2 * MiB}`, name: "too-big.bin", size: 5 * MiB,
  storedKey: "users/alice/too-big.bin", code: "EntityTooLarge", status: 400,
  message: "content-length-range",
}));

test("a token whose expiry has passed is refused and nothing is stored", (t) => refused(t, {
  query: "?expired=1", name: "late.bin", size: 64 * 1024,
  storedKey: "users/alice/late.bin", code: "AccessDenied", status: 403,
  message: "Policy expired",
}));

test("a key tampered to leave the prefix is refused and nothing is stored", (t) => refused(t, {
  name: "escape.bin", size: 64 * 1024, tamperKey: "elsewhere/${filename}",
  storedKey: "elsewhere/escape.bin", code: "AccessDenied", status: 403,
  message: "Policy Condition failed",
}));

let passed = 0;
let failed = 0;
try {
  const server = await startServer();
  mkdirSync(outDir, { recursive: true });
  const profile = mkdtempSync(path.join(outDir, "profile-"));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    timeout: STEP_TIMEOUT_MS,
    viewport: { width: 900, height: 720 },
  });
  cleanups.push(() => context.close());
  for (const c of cases) {
    const started = Date.now();
    try {
      await c.fn({ ...server, context });
      passed += 1;
      console.log(`ok - ${c.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`not ok - ${c.name}: ${e.message}`);
    }
  }
} catch (e) {
  failed += 1;
  console.log(`not ok - setup: ${e.message}`);
}
await cleanup();
clearTimeout(watchdog);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
