// Encrypts standard input with the TypeScript age: `node encrypt.mjs RECIPIENT...`
// writes the age file to stdout. An independent sealer for hardware-key tag
// recipients (age1tag1…, age1tagpq1…), which tests/server/hardware.rs opens
// through the test plugin.
import { readFileSync } from "node:fs";
import { Encrypter } from "age-encryption";

const encrypter = new Encrypter();
for (const recipient of process.argv.slice(2)) encrypter.addRecipient(recipient);
const sealed = await encrypter.encrypt(readFileSync(0));
process.stdout.write(sealed);
