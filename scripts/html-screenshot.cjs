// Screenshots of an HTML audit report at two sizes, and a check of its severity filter.
// usage: node scripts/html-screenshot.cjs REPORT.html OUT-DIR
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
  for (const s of sizes) {
    const page = await browser.newPage({ viewport: { width: s.width, height: s.height } });
    await page.goto("file://" + path.resolve(html));
    const file = path.join(out, `report-${s.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    // What a reader sees first.
    await page.screenshot({ path: path.join(out, `report-${s.name}-top.png`) });
    console.log(file);
    // Horizontal overflow of the page itself (tables scroll inside their own box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) {
      console.error(`${s.name}: the page is ${overflow}px wider than the window`);
      failed = true;
    }
  }
  // The filter: unchecking "low" hides every low finding and nothing else.
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto("file://" + path.resolve(html));
  const visible = (sel) => page.$$eval(sel, (els) => els.filter((e) => e.offsetParent !== null).length);
  const before = { low: await visible(".finding.sev-low"), critical: await visible(".finding.sev-critical") };
  await page.click("#show-low");
  const after = { low: await visible(".finding.sev-low"), critical: await visible(".finding.sev-critical") };
  console.log(`filter: low ${before.low} -> ${after.low}, critical ${before.critical} -> ${after.critical}`);
  if (before.low === 0 || after.low !== 0 || after.critical !== before.critical) {
    console.error("the severity filter does not work");
    failed = true;
  }
  // Anchors: the fix-first links lead to findings that exist.
  const broken = await page.$$eval("a[href^='#']", (as) =>
    as.filter((a) => !document.getElementById(a.getAttribute("href").slice(1))).length);
  if (broken) {
    console.error(`${broken} anchors lead nowhere`);
    failed = true;
  }
  await page.screenshot({ path: path.join(out, "report-filtered.png") });
  await browser.close();
  process.exit(failed ? 1 : 0);
})();
