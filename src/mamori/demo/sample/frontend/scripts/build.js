// Copies the board sources into the output folder: node scripts/build.js --out dist
const fs = require("fs");
const path = require("path");
const argv = require("minimist")(process.argv.slice(2), { string: ["out"], default: { out: "dist" } });

fs.mkdirSync(argv.out, { recursive: true });
for (const name of fs.readdirSync(path.join(__dirname, "..", "src"))) {
  fs.copyFileSync(path.join(__dirname, "..", "src", name), path.join(argv.out, name));
}
console.log(`built into ${argv.out}`);
