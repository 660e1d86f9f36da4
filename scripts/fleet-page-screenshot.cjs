// Screenshots of a fleet page (summary.html) at two sizes, and checks of its sorting and
// filtering by clicking and typing as a reader would.
// usage: node scripts/fleet-page-screenshot.cjs SUMMARY.html OUT-DIR
const { chromium } = require("playwright-core");
const path = require("path");

const [html, out] = process.argv.slice(2);
const sizes = [
  { name: "desktop", width: 1366, height: 900 },
  { name: "phone", width: 390, height: 844 },
];

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failed = false;
  const fail = (m) => { console.error(m); failed = true; };
  for (const s of sizes) {
    const page = await browser.newPage({ viewport: { width: s.width, height: s.height } });
    const requests = [];
    page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
    await page.goto("file://" + path.resolve(html));
    const file = path.join(out, `fleet-${s.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
    if (requests.length) fail(`${s.name}: the page asked the network for ${requests.join(", ")}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) fail(`${s.name}: the page is ${overflow}px wider than the window`);
    if (s.name !== "desktop") { await page.close(); continue; }
    const visible = () => page.$$eval("#fleet tbody tr", (rs) => rs.filter((r) => !r.hidden).map((r) => r.cells[0].getAttribute("data-v")));
    const all = await visible();
    // Sort by name, ascending then descending.
    await page.click("#fleet th:nth-child(1)");
    const asc = await visible();
    const sorted = [...all].sort((a, b) => a.localeCompare(b));
    if (JSON.stringify(asc) !== JSON.stringify(sorted)) fail(`sort by name: ${asc} (want ${sorted})`);
    await page.click("#fleet th:nth-child(1)");
    const desc = await visible();
    if (JSON.stringify(desc) !== JSON.stringify([...sorted].reverse())) fail(`sort by name, descending: ${desc}`);
    // Sort by critical count, most first: numbers, not text ("10" after "9").
    await page.click("#fleet th:nth-child(6)");
    await page.click("#fleet th:nth-child(6)");
    const crit = await page.$$eval("#fleet tbody tr", (rs) => rs.map((r) => parseFloat(r.cells[5].getAttribute("data-v"))));
    for (let i = 1; i < crit.length; i++) if (crit[i] > crit[i - 1]) fail(`sort by critical: ${crit}`);
    await page.screenshot({ path: path.join(out, "fleet-desktop-sorted.png") });
    // Filter by text: only rows containing it stay.
    const word = all.find((n) => n.includes("-")) || all[0];
    await page.fill("#q", word);
    const found = await visible();
    if (!found.length || found.some((n) => !n.includes(word) && false)) fail(`filter ${word}: ${found}`);
    const texts = await page.$$eval("#fleet tbody tr", (rs) => rs.filter((r) => !r.hidden).map((r) => r.textContent.toLowerCase()));
    if (texts.some((t) => !t.includes(word.toLowerCase()))) fail(`filter ${word}: a row without it stayed`);
    await page.fill("#q", "");
    // Filter by state: only routers not read.
    await page.selectOption("#state", "down");
    const states = await page.$$eval("#fleet tbody tr", (rs) => rs.filter((r) => !r.hidden).map((r) => r.getAttribute("data-state")));
    if (states.some((x) => x !== "down")) fail(`state filter: ${states}`);
    await page.screenshot({ path: path.join(out, "fleet-desktop-down.png") });
    console.log(`sorted and filtered ${all.length} routers`);
    await page.close();
  }
  await browser.close();
  process.exit(failed ? 1 : 0);
})();
