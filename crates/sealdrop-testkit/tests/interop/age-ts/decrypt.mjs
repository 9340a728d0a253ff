// Decrypts an age file with the TypeScript age: `node decrypt.mjs IDENTITY_FILE FILE`
// writes the plaintext to stdout. An independent reader of sealdrop's reply
// files and of the identities derived from a codename (tests/format/replies.rs).
import { readFileSync } from "node:fs";
import { Decrypter } from "age-encryption";

const [identityFile, file] = process.argv.slice(2);
const decrypter = new Decrypter();
for (const line of readFileSync(identityFile, "utf8").split("\n")) {
  if (line.trim() !== "" && !line.startsWith("#")) decrypter.addIdentity(line.trim());
}
const plaintext = await decrypter.decrypt(readFileSync(file));
process.stdout.write(plaintext);
