# sealdrop-inbox, English (the source text; the other languages are translated from it).
app-title = sealdrop inbox
machine-made = This translation was made by a machine and has not been reviewed yet.
import-button = Import…
import-title = Import sealed submissions
import-folder = Folder of sealed files (the USB stick)
identity-files = Identity files, one per line
identity-held = The keys already in memory are used; give identity files only to use others.
choose-folder = Choose folder…
choose-file = Add identity file…
import-start = Import
cancel = Cancel
close = Close
passphrase-title = Passphrase
passphrase-for = { $what }
unlock = Unlock
plugin-title = Hardware key
plugin-answer = Answer
keys-held = Keys in memory: forgotten after { $minutes } minutes without use, or when the screen locks.
keys-none = No keys in memory.
forget-keys = Forget keys now
keys-forgotten = The keys were forgotten.
importing = Importing: { $done } of { $total } bytes read…
import-done = Import finished: { $imported } imported, { $skipped } already here, { $failed } failed, { $notcleaned } attachments not cleaned.
import-failed = Not imported: { $name }: { $reason }
keys-failed = The keys could not be loaded: { $reason }
sources = Sources
source-name = Source { $name }
thread-counts = { $submissions ->
    [one] 1 submission
   *[other] { $submissions } submissions
} · { $replies ->
    [one] 1 reply
   *[other] { $replies } replies
}
unseen = { $count } new
no-source = Choose a source on the left to read what she sent.
empty = Nothing imported yet. Press “Import…” (Ctrl+I) and choose the folder of sealed files.
received = Received { $time }
desk = Desk: { $desk }
new-since = New since you last looked
reply-sent = Reply sent { $time }
reply-written = in the outbox, not yet pushed
reply-pushed = pushed to the server
reply-refused = refused by the server (the source deleted it, or it was too old)
reply-missing = not in this outbox
message-none = (no message)
file-line = { $name } · { $size }
file-kind = What it is: { $kind }
name-claims = Careful: its name says { $claimed }, but it is { $kind }.
category-location = Location
category-device = Device
category-people = People
category-times = Times
category-history = History
category-hidden = Hidden content
category-active = Active content and tracking
not-checked = Not checked
nothing-found = Nothing found that reveals who made it.
cleaned = Cleaned copy ready.
cleaned-removed = Cleaned copy ready; removed: { $removed }
not-cleaned = NOT CLEANED: { $reason }
not-searched = Not searched: { $what }
show-picture = Show picture
save-cleaned = Save cleaned copy…
save-original = Save original…
open-with = Open with another program…
open-title = Open it with another program?
open-warning = The cleaned copy will be opened by another program on this computer, outside sealdrop’s sandbox. A file made to attack that program can then read your files and keys and wait for a network. Tails has no disposable virtual machines: nothing throws that program away afterwards. Open it only if you must, and never the original.
open-anyway = Open the cleaned copy
original-title = Save the original?
original-warning = The original is exactly what the source sent: everything in it that can identify her, and everything that can attack a computer. Save it only to hand it to someone who knows how to handle it, never to open it here.
original-anyway = Save the original
saved = Saved to { $path }
picture-title = Picture (the cleaned copy, decoded in the sandbox)
composer = Reply to this source
reply-count = { $bytes } of { $limit } bytes
reply-over = { $over } bytes too long
seal-reply = Seal reply
outbox = Outbox folder (what sealdrop push-replies reads)
reply-sealed = Reply sealed into { $file }. Carry the outbox to the transfer laptop.
cannot-reply = This source cannot be answered: her submissions came without a reply channel.
shortcuts = Keyboard shortcuts
shortcut-import = Ctrl+I: import sealed submissions
shortcut-forget = Ctrl+L: forget the keys now
shortcut-send = Ctrl+Enter: seal the reply
shortcut-next = Ctrl+Page Down / Ctrl+Page Up: next / previous source
shortcut-help = F1: this list
shortcut-quit = Ctrl+Q: quit
error = { $reason }
search = Search messages, replies and files
show = Show
show-all = All ({ $count })
show-unread = Unread ({ $count })
show-starred = Starred ({ $count })
show-desk = Desk { $desk } ({ $count })
show-junk = Junk ({ $count })
oldest-first = Oldest first
star = Star
unstar = Remove star
junk = Mark as junk
not-junk = Not junk
junk-note = Marked as junk: hidden from every view but Junk, and kept. “Not junk” brings it back.
same-file = { $name }: the same file source { $source } sent on { $time }; shown there.
shortcut-find = Ctrl+F: search
shortcut-star = Ctrl+S: star the source, or remove the star
shortcut-junk = Ctrl+J: mark the source as junk, or not
delete = Delete…
delete-title = Delete this source?
delete-warning = Everything this source sent and everything sent to her goes from this computer: messages, files, sealed originals, drafts, and their words in the search index. Importing the same stick again will not bring them back. On a USB stick or an SSD, deleting a file cannot promise that its data is erased from the chips.
delete-anyway = Delete
deleted = { $count ->
    [one] Deleted 1 submission.
   *[other] Deleted { $count } submissions.
}
shortcut-delete = Ctrl+Delete: delete the source shown
delete-after-import = Wait for the import to end before deleting.
delete-submission = Delete this submission…
delete-submission-title = Delete this submission?
delete-submission-warning = What this submission holds goes from this computer: its message, its files, its sealed original, and their words in the search index. The rest of the conversation stays. Importing the same stick again will not bring it back. On a USB stick or an SSD, deleting a file cannot promise that its data is erased from the chips.
delete-shown = { $count ->
    [one] Delete the source shown…
   *[other] Delete the { $count } sources shown…
}
delete-shown-title = { $count ->
    [one] Delete the source shown?
   *[other] Delete the { $count } sources shown?
}
delete-shown-warning = Everything the sources in the list sent and everything sent to them goes from this computer: messages, files, sealed originals, drafts, and their words in the search index. Check the list first: it shows what the view and the search chose. Importing the same stick again will not bring them back. On a USB stick or an SSD, deleting a file cannot promise that its data is erased from the chips.
show-more = Show { $count } more
export = Export…
export-title = Export this conversation
export-risks = Understand the risks before you export
export-risk-malware = Malware: only cleaned copies leave this way, but cleaning removes what identifies, not what attacks. The computer that opens them is not protected by sealdrop’s sandbox: open them on a computer that holds nothing else, never on the newsroom’s network.
export-risk-anonymity = Anonymity: what a source wrote, and what cleaning missed, can identify her. Whoever holds the export can read it: give it only to the people who must work on it, and keep it encrypted.
export-risk-plain = An export onto a LUKS volume, a PDF or a printout is not encrypted by sealdrop: it is as safe as the place you keep it.
export-transcript = The conversation: messages, replies and what was found in each file
export-file = The cleaned copy of { $name }
export-to-age = An encrypted archive (age), readable only with the keys of these recipients:
export-recipients = Recipients (age1… or age1pq1…), one per line
export-to-luks = An archive onto an unlocked LUKS volume (an encrypted USB stick Tails made), not encrypted again
export-folder = Folder to write to
export-pdf = Save the conversation as PDF
export-start = Export
export-done = Exported to { $path }
export-no-folder = Give the folder to write to first.
export-nothing = Choose something to export: the conversation or a file.
print = Print…
print-note = Printing: on an air-gapped Tails without a printer, choose “Print to File” to write a PDF.
shortcut-export = Ctrl+E: export the source shown
shortcut-print = Ctrl+P: print the conversation shown
