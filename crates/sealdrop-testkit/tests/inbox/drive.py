"""Drives the real sealdrop-inbox through its accessibility tree, as an
editor with a screen reader or a keyboard would: import a folder of sealed
files (a passphrase asked in the window), open the Arabic source's thread,
read her message, open her picture, seal a reply. Then reads the process's
sockets. Writes what it saw as JSON for the Rust test to judge.

Run by tests/inbox/main.rs with Debian's /usr/bin/python3 (python3-pyatspi)
inside Xvfb, a session bus and the accessibility bus."""

import json
import os
import subprocess
import sys
import time

import pyatspi

config = json.load(open(sys.argv[1]))
seen = {"steps": []}


def step(name):
    seen["steps"].append(name)
    print("step:", name, flush=True)


def children(node):
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            yield child


def walk(node, depth=0):
    yield node
    if depth < 40:
        for child in children(node):
            yield from walk(child, depth + 1)


def app():
    desktop = pyatspi.Registry.getDesktop(0)
    for app in children(desktop):
        if app.name == "sealdrop-inbox":
            return app
    return None


def wait(what, find, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            found = find()
        except Exception:  # a node that went away while walked
            found = None
        if found is not None:
            return found
        time.sleep(0.2)
    dump = []
    root = app()
    if root is not None:
        for node in walk(root):
            text = ""
            try:
                text = node.queryText().getText(0, -1)
            except Exception:
                pass
            dump.append(f"[{node.getRoleName()}] {node.name!r} {text[:120]!r}")
    raise SystemExit(f"timed out waiting for {what}\n" + "\n".join(dump))


def find(role, name=None, within=None, contains=None, equals=None):
    def look():
        root = within if within is not None else app()
        if root is None:
            return None
        for node in walk(root):
            if node.getRoleName() != role:
                continue
            if name is not None and node.name != name:
                continue
            if contains is not None and contains not in text_of(node):
                continue
            if equals is not None and text_of(node) != equals:
                continue
            return node
        return None

    return look


def find_named(role, part):
    """The first node of `role` whose name contains `part`."""

    def look():
        root = app()
        if root is None:
            return None
        for node in walk(root):
            if node.getRoleName() == role and part in (node.name or ""):
                return node
        return None

    return look


def text_of(node):
    """A label's text: GTK 4.8 gives it as the accessible name; the Text
    interface, where it answers, says the same."""
    try:
        text = node.queryText().getText(0, -1)
    except Exception:
        text = ""
    return text or node.name or ""


def click(node):
    action = node.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in ("click", "activate", "press"):
            action.doAction(i)
            return
    action.doAction(0)


def focus_by_tab(node):
    """GTK 4.8 gives check buttons no accessible action, nor a way to give
    them the focus: Tab until `node` has it, as a keyboard user does."""
    for _ in range(60):
        if node.getState().contains(pyatspi.STATE_FOCUSED):
            return
        pyatspi.Registry.generateKeyboardEvent(0xFF09, None, pyatspi.KEY_SYM)
        time.sleep(0.15)
    raise SystemExit(f"{node.name!r} never took the focus")


def press_space(node):
    """A check button toggled from the keyboard."""
    focus_by_tab(node)
    pyatspi.Registry.generateKeyboardEvent(0x20, None, pyatspi.KEY_SYM)


def type_into(node, text):
    node.queryEditableText().setTextContents(text)


def frame(name):
    return wait(f"the window {name!r}", find("frame", name))


def screenshot(name):
    """The whole virtual screen as a PNG, with ImageMagick's import, when
    the test was asked for screenshots (for README.md)."""
    folder = config.get("screenshots")
    if folder:
        time.sleep(1)
        subprocess.run(["import", "-window", "root", os.path.join(folder, name)], check=True)


def open_thread(main, row_prefix):
    sources = wait("the list of sources", find("list", words["sources"], main))
    rows = [row for row in children(sources)]
    seen["rows"] = [row.name for row in rows]
    target = [i for i, row in enumerate(rows) if row_prefix in row.name]
    if not target:
        raise SystemExit(f"no row for {row_prefix!r} in {seen['rows']}")
    sources.querySelection().selectChild(target[0])
    for paragraph in config["arabic_paragraphs"]:
        # Equal, not contained: the list's preview holds the message's start too.
        label = wait(f"the paragraph {paragraph!r}", find("label", None, main, equals=paragraph))
        seen.setdefault("paragraphs", []).append(text_of(label))
    return sources


def left_edge(node):
    return node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS).x


words = config["words"]
main = wait("the main window", find("frame", words["app-title"]))
step("started")

if config.get("mode") == "read":
    # The window in another language: its words, its layout (mirrored
    # for Arabic and Persian), the same message.
    sources = open_thread(main, config["arabic_row"])
    composer = wait("the composer", find("text", words["composer"], main))
    seen["sources_x"] = left_edge(sources)
    seen["composer_x"] = left_edge(composer)
    seen["heading"] = text_of(wait("the heading", find("label", None, main, equals=words["sources"])))
    screenshot(config["screenshot_name"])
    step("read in another language")
    json.dump(seen, open(config["out"], "w"), ensure_ascii=False, indent=1)
    sys.exit(0)

# 1. Import: the folder, both identity files, then the passphrase.
click(wait("Import…", find("push button", words["import-button"], main)))
dialog = frame(words["import-title"])
type_into(wait("the folder field", find("text", words["import-folder"], dialog)), config["stick"])
type_into(
    wait("the identities field", find("text", words["identity-files"], dialog)),
    "\n".join(config["identities"]),
)
click(wait("Import", find("push button", words["import-start"], dialog)))
step("import started")
asked = frame(words["passphrase-title"])
field = wait("the passphrase field", find("password text", None, asked))
seen["passphrase_prompt"] = field.name
type_into(field, config["passphrase"])
click(wait("Unlock", find("push button", words["unlock"], asked)))
step("passphrase given")
# The hardware key's plugin asks for its PIN while its submission opens.
pin = wait("the PIN field", find_named("password text", "PIN"), timeout=120)
seen["pin_prompt"] = pin.name
type_into(pin, config["pin"])
asked = pin
while asked is not None and asked.getRoleName() != "frame":
    asked = asked.parent
click(wait("Unlock", find("push button", words["unlock"], asked)))
step("PIN given")
status = wait(
    "the import to finish",
    find("status bar", None, main, contains=config["import_done"]),
    timeout=120,
)
seen["import_status"] = text_of(status)
step("imported")

# 2. The Arabic source's thread: her message, paragraph by paragraph.
sources = open_thread(main, config["arabic_row"])
seen["sources_x"] = left_edge(sources)
seen["composer_x"] = left_edge(wait("the composer", find("text", words["composer"], main)))
seen["findings"] = [
    text_of(node)
    for node in walk(main)
    if node.getRoleName() == "label" and text_of(node).startswith(words["category-location"])
]
step("read the message")
screenshot(config.get("screenshot_name", "inbox.png"))

# 3. Her picture, decoded in the sandbox.
button = wait("Show picture", find("push button", config["show_picture"], main))
click(button)
viewer = frame(words["picture-title"])
picture = wait("the picture", find("image", words["picture-title"], viewer))
extents = picture.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
seen["picture_size"] = [extents.width, extents.height]
click(wait("Close", find("push button", words["close"], viewer)))
step("saw the picture")

# 4. A reply, counted as typed, sealed into the outbox.
composer = wait("the composer", find("text", words["composer"], main))
type_into(composer, config["reply"])
count = wait("the byte count", find("label", None, main, contains=config["reply_count"]))
seen["reply_count"] = text_of(count)
click(wait("Seal reply", find("push button", words["seal-reply"], main)))
sealed = wait("the reply to be sealed", find("status bar", None, main, contains=config["reply_sealed"]))
seen["reply_status"] = text_of(sealed)
shown = wait("the reply in the thread", find("label", None, main, contains=config["reply_first_words"]))
seen["reply_shown"] = text_of(shown)
step("replied")

# Part 2: star, views, search, junk.
def rows_now():
    sources = wait("the list of sources", find("list", words["sources"], main))
    return [row.name for row in children(sources)]


def wait_rows(what, test):
    end = time.time() + 30
    while time.time() < end:
        names = rows_now()
        if test(names):
            return names
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}: rows {rows_now()}")


def view(label):
    # GTK 4.8 has no toggle-button role yet: a pressed push button.
    click(wait(label, find("push button", label, main)))


click(wait("Star", find("push button", words["star"], main)))
view(config["views"]["starred-1"])
seen["starred_rows"] = wait_rows("only the starred source", lambda r: len(r) == 1)
view(config["views"]["all-3"])
wait_rows("every source", lambda r: len(r) == 3)
step("starred")

search = wait("the search field", find_named("entry", words["search"]))
try:
    search.queryEditableText()
except NotImplementedError:
    # GTK 4.8 gives the editable text to the entry's own text child.
    search = next(n for n in walk(search) if n.getRoleName() == "text")
type_into(search, config["arabic_query"])
seen["search_rows"] = wait_rows("the Arabic source found", lambda r: len(r) == 1)
type_into(search, config["english_query"])
seen["english_search_rows"] = wait_rows("the English source found", lambda r: len(r) == 1)
type_into(search, config["document_query"])
seen["document_search_rows"] = wait_rows("the source whose document has the word", lambda r: len(r) == 1)
type_into(search, config["reply_query"])
seen["reply_search_rows"] = wait_rows("the reply found", lambda r: len(r) == 1)
type_into(search, "")
wait_rows("every source again", lambda r: len(r) == 3)
step("searched")

open_thread_named = [i for i, name in enumerate(rows_now()) if config["english_row"] in name]
wait("the list", find("list", words["sources"], main)).querySelection().selectChild(open_thread_named[0])
click(wait("Mark as junk", find("push button", words["junk"], main)))
seen["after_junk_rows"] = wait_rows("the junk source hidden", lambda r: len(r) == 2)
view(config["views"]["junk-1"])
seen["junk_rows"] = wait_rows("the junk view", lambda r: len(r) == 1)
click(wait("Not junk", find("push button", words["not-junk"], main)))
view(config["views"]["all-3"])
seen["after_undo_rows"] = wait_rows("the source back", lambda r: len(r) == 3)
step("junk and back")

# Part 3: out of the workspace. The Arabic source's conversation and photo
# exported sealed to a recipient; refused onto a folder that is not on a
# LUKS volume; saved as PDF; GTK's print dialog opened and cancelled.
def select_row(row_name):
    at = [i for i, name in enumerate(rows_now()) if row_name in name]
    wait("the list", find("list", words["sources"], main)).querySelection().selectChild(at[0])


def export_dialog():
    # The last one gone first: a closed window can linger a moment in the
    # accessibility tree.
    wait("no export window", lambda: None if find("frame", words["export-title"])() else True)
    click(wait("Export…", find("push button", words["export"], main)))
    return frame(words["export-title"])


select_row(config["arabic_row"])
dialog = export_dialog()
seen["export_risks"] = [
    text_of(node) for node in walk(dialog) if node.getRoleName() == "label" and text_of(node) in config["export_risks"]
]
photo_box = wait("the photo's box", find("check box", config["export_photo"], dialog))
press_space(photo_box)
wait("the photo chosen", lambda: photo_box if photo_box.getState().contains(pyatspi.STATE_CHECKED) else None)
type_into(wait("the recipients", find("text", words["export-recipients"], dialog)), config["export_recipient"])
type_into(wait("the folder", find("text", words["export-folder"], dialog)), config["export_folder"])
click(wait("Export", find("push button", words["export-start"], dialog)))
seen["export_status"] = text_of(wait("the export", find("status bar", None, main, contains=config["export_done"])))
step("exported")

if config.get("luks_refused"):
    dialog = export_dialog()
    # A group of choices takes the focus on the chosen one; the arrow
    # keys move the choice.
    luks_box = wait("onto a LUKS volume", find("check box", words["export-to-luks"], dialog))
    sealed_box = wait("sealed", find("check box", words["export-to-age"], dialog))
    focus_by_tab(sealed_box)
    pyatspi.Registry.generateKeyboardEvent(0xFF54, None, pyatspi.KEY_SYM)
    wait("LUKS chosen", lambda: luks_box if luks_box.getState().contains(pyatspi.STATE_CHECKED) else None)
    type_into(wait("the folder", find("text", words["export-folder"], dialog)), config["export_folder"])
    click(wait("Export", find("push button", words["export-start"], dialog)))
    seen["luks_status"] = text_of(wait("the refusal", find("status bar", None, main, contains=config["luks_refused"])))
    click(wait("Cancel", find("push button", words["cancel"], dialog)))
    step("refused a folder off LUKS")

dialog = export_dialog()
type_into(wait("the recipients", find("text", words["export-recipients"], dialog)), config["export_recipient"])
type_into(wait("the folder", find("text", words["export-folder"], dialog)), config["export_folder"])
click(wait("Save as PDF", find("push button", words["export-pdf"], dialog)))
seen["pdf_status"] = text_of(wait("the PDF", find("status bar", None, main, contains=config["pdf_saved"])))
step("saved as PDF")

click(wait("Print…", find("push button", words["print"], main)))
printing = wait("GTK's print dialog", find("dialog", config["print_dialog"]))
seen["print_dialog"] = printing.name
def print_cancel():
    for node in walk(printing):
        if node.getRoleName() == "push button" and config["print_cancel"] in (node.name or ""):
            return node
    return None
click(wait("Cancel", print_cancel))
step("print dialog")

# One submission of the English source deleted (the one with the Word
# document): its words go, the source and her follow-up stay.
select_row(config["english_row"])
def delete_buttons():
    return [n for n in walk(main) if n.getRoleName() == "push button" and n.name == words["delete-submission"]]


def delete_button_of_document():
    """The delete button of the card that shows the Word document."""
    if len(delete_buttons()) != 2:
        return None
    label = find("label", None, main, contains=config["document_name"])()
    card = label
    while card is not None:
        inside = [n for n in walk(card) if n.getRoleName() == "push button" and n.name == words["delete-submission"]]
        if len(inside) == 1:
            return inside[0]
        card = card.parent
    return None


click(wait("the document's submission to delete", delete_button_of_document))
asked = frame(words["delete-submission-title"])
click(wait("Delete", find("push button", words["delete-anyway"], asked)))
wait("the follow-up alone", lambda: True if len(delete_buttons()) == 1 else None)
seen["after_submission_delete_rows"] = wait_rows("the source still there", lambda r: len(r) == 3)
# The search index as it is now, for the test to read its words.
import shutil
shutil.copy(config["search_file"], config["search_snapshot"])
type_into(search, config["document_query"])
seen["document_search_after_delete"] = wait_rows("the document's word gone", lambda r: len(r) == 0)
type_into(search, "")
wait_rows("every source again", lambda r: len(r) == 3)
step("deleted a submission")

hardware_at = [i for i, name in enumerate(rows_now()) if config["hardware_row"] in name]
wait("the list", find("list", words["sources"], main)).querySelection().selectChild(hardware_at[0])
click(wait("Delete…", find("push button", words["delete"], main)))
asked = frame(words["delete-title"])
click(wait("Delete", find("push button", words["delete-anyway"], asked)))
seen["after_delete_rows"] = wait_rows("the deleted source gone", lambda r: len(r) == 2)
step("deleted")

# Every source a view shows, deleted at once: the English source as junk.
select_row(config["english_row"])
click(wait("Mark as junk", find("push button", words["junk"], main)))
view(config["views"]["junk-1"])
wait_rows("the junk view", lambda r: len(r) == 1)
click(wait("Delete the sources shown", find("push button", config["delete_shown"], main)))
asked = frame(config["delete_shown_title"])
click(wait("Delete", find("push button", words["delete-anyway"], asked)))
wait_rows("the junk view empty", lambda r: len(r) == 0)
view(config["views"]["all-1"])
seen["after_bulk_rows"] = wait_rows("one source left", lambda r: len(r) == 1)
step("deleted what a view shows")

# 5. The same stick again, with the keys still in memory: nothing twice.
click(wait("Import…", find("push button", words["import-button"], main)))
dialog = frame(words["import-title"])
type_into(wait("the folder field", find("text", words["import-folder"], dialog)), config["stick"])
click(wait("Import", find("push button", words["import-start"], dialog)))
again = wait(
    "the second import to finish",
    find("status bar", None, main, contains=config["reimport_done"]),
    timeout=120,
)
seen["reimport_status"] = text_of(again)
step("imported again")

# 6. Every socket the process holds, by family.
pid = app().get_process_id()
seen["pid"] = pid
inodes = []
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if target.startswith("socket:["):
        inodes.append(target[8:-1])


def table_inodes(name, column):
    try:
        lines = open(f"/proc/{pid}/net/{name}").read().splitlines()[1:]
    except OSError:
        return set()
    return {line.split()[column] for line in lines if len(line.split()) > column}


families = {}
for name, column in [("tcp", 9), ("tcp6", 9), ("udp", 9), ("udp6", 9), ("raw", 9), ("raw6", 9), ("packet", 8), ("unix", 6)]:
    for inode in table_inodes(name, column):
        families[inode] = name
seen["sockets"] = [families.get(inode, "unknown") for inode in inodes]
seen["interfaces"] = sorted(
    line.split(":")[0].strip() for line in open(f"/proc/{pid}/net/dev").read().splitlines()[2:]
)
for line in open(f"/proc/{pid}/limits"):
    if line.startswith("Max core file size"):
        seen["core_limit"] = line.split()[4]
step("counted sockets")

json.dump(seen, open(config["out"], "w"), ensure_ascii=False, indent=1)
