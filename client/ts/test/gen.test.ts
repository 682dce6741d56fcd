// src/gen is committed; it must be what scripts/gen.sh makes of proto/ now.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";

// Compiled to dist/test; the package root is two levels up.
const root = join(__dirname, "..", "..");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test("src/gen is fresh (npm run gen regenerates it)", () => {
  const out = mkdtempSync(join(tmpdir(), "hinterland-gen-"));
  try {
    execFileSync(join(root, "scripts", "gen.sh"), [out], { stdio: ["ignore", "inherit", "inherit"] });
    const committed = join(root, "src", "gen");
    assert.deepEqual(files(out), files(committed), "the generated files differ: run npm run gen");
    for (const f of files(out)) {
      assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(committed, f))), `src/gen/${f} is stale: run npm run gen`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
