"""Planted XLSX and PPTX files for the scrubbing tests, and what an independent
reader sees in them.

    office.py make-xlsx OUT PHOTO [--fetching]   # a workbook with what gives a source away
    office.py make-pptx OUT PHOTO                # a presentation likewise
    office.py read FILE                          # JSON: what openpyxl / python-pptx read

The files are written by openpyxl and python-pptx, then given by hand what
those libraries do not write (the folder the workbook was saved in, who
reserved it, revision ids, printer settings, a link to another workbook;
comments with their authors, creation ids and tags in a presentation), as
Excel and PowerPoint write them.
"""

import json
import re
import sys
import zipfile

# A Windows DEVMODE: the device name in UTF-16, padded to 32 characters.
PRINTER = "HP LaserJet Newsroom 4F".encode("utf-16-le").ljust(64, b"\0") + bytes(156)


def rewrite(path, change):
    """Rewrites the ZIP at `path`: `change(parts)` edits a dict name -> bytes."""
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def add_rel(parts, rels_name, rel_id, rel_type, target, external=False):
    rels = parts.get(rels_name, b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>').decode()
    mode = ' TargetMode="External"' if external else ""
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"{mode}/></Relationships>')
    parts[rels_name] = rels.encode()


def add_override(parts, part_name, content_type):
    types = parts["[Content_Types].xml"].decode()
    types = types.replace("</Types>", f'<Override PartName="{part_name}" ContentType="{content_type}"/></Types>')
    parts["[Content_Types].xml"] = types.encode()


REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def make_xlsx(out, photo, fetching, plain=False):
    """`plain`: without the comment and the link to another workbook (which mat2 refuses)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image

    wb = Workbook()
    ws = wb.active
    ws.title = "Convoy"
    ws["A1"] = "The convoy left at dawn"
    ws["A2"] = "Trucks"
    ws["B2"] = 40
    ws["B3"] = "=B2*2"
    if not plain:
        ws["A1"].comment = Comment("My cousin told me this", "Hasan K.")
    ws["A5"] = "source"
    ws["A5"].hyperlink = "https://canary.example.org/sheet"
    if fetching:
        ws["B6"] = '=WEBSERVICE("https://canary.example.org/w")'
    ws.add_image(Image(photo), "D2")
    hidden = wb.create_sheet("Checkpoints")
    hidden["A1"] = "North gate"
    hidden.sheet_state = "hidden"
    wb.properties.creator = "Hasan K."
    wb.properties.lastModifiedBy = "Hasan Kh."
    wb.save(out)

    def plant(parts):
        book = parts["xl/workbook.xml"].decode()
        book = re.sub(r"(<workbook [^>]*)>", r'\1 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" mc:Ignorable="x15ac xr">'
                      '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27425"/>'
                      '<fileSharing userName="Hasan K." reservationPassword="CC3D"/>', book, count=1)
        book = re.sub(r"(<workbookPr[^>]*/>)", r'\1<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\Hasan\\Documents\\Leaks\\"/></mc:Choice></mc:AlternateContent><xr:revisionPtr revIDLastSave="0" documentId="13_ncr:1_{8F3A1C2B-0000-4000-8000-00000000C0DE}"/>', book, count=1)
        if 'xmlns:r="' not in book.split(">", 2)[1]:
            book = book.replace("<workbook ", '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ', 1)
        if not plain:
            book = book.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rIdX1"/></externalReferences>')
        parts["xl/workbook.xml"] = book.encode()
        if plain:
            return plant_sheet(parts)
        add_rel(parts, "xl/_rels/workbook.xml.rels", "rIdX1", REL + "externalLink", "externalLinks/externalLink1.xml")
        parts["xl/externalLinks/externalLink1.xml"] = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1"/></externalLink>'
        add_rel(parts, "xl/externalLinks/_rels/externalLink1.xml.rels", "rId1", REL + "externalLinkPath", "file:///C:/Users/Hasan/Documents/sources.xlsx", external=True)
        add_override(parts, "/xl/externalLinks/externalLink1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml")
        plant_sheet(parts)

    def plant_sheet(parts):
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        sheet = re.sub(r"(<worksheet [^>]*)>", r'\1 xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" xr:uid="{8F3A1C2B-1111-4000-8000-00000000C0DE}">', sheet, count=1)
        if 'xmlns:r="' not in sheet.split(">", 2)[1]:
            sheet = sheet.replace("<worksheet ", '<worksheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ', 1)
        sheet = re.sub(r"<pageMargins[^>]*/>", lambda m: m.group(0) + '<pageSetup orientation="landscape" r:id="rIdP1"/>', sheet, count=1)
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        add_rel(parts, "xl/worksheets/_rels/sheet1.xml.rels", "rIdP1", REL + "printerSettings", "../printerSettings/printerSettings1.bin")
        parts["xl/printerSettings/printerSettings1.bin"] = PRINTER
        types = parts["[Content_Types].xml"].decode()
        if 'Extension="bin"' not in types:
            types = types.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"/></Types>')
        parts["[Content_Types].xml"] = types.encode()

    rewrite(out, plant)


def make_pptx(out, photo, plain=False):
    """`plain`: without speaker notes and comments (which mat2 refuses)."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    first = prs.slides.add_slide(prs.slide_layouts[1])
    first.shapes.title.text = "The convoy left at dawn"
    first.placeholders[1].text = "Forty trucks, heading north."
    if not plain:
        first.notes_slide.notes_text_frame.text = "Hasan's cousin saw it from Baron Street"
    first.shapes.add_picture(photo, Inches(5), Inches(4), Inches(3))
    box = first.shapes.add_textbox(Inches(1), Inches(6), Inches(3), Inches(1))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = "source"
    run.hyperlink.address = "https://canary.example.org/slide"
    second = prs.slides.add_slide(prs.slide_layouts[5])
    second.shapes.title.text = "Draft numbers"
    second._element.set("show", "0")
    prs.core_properties.author = "Hasan K."
    prs.core_properties.last_modified_by = "Hasan Kh."
    prs.core_properties.comments = "for the Aleppo desk"
    prs.save(out)

    def plant(parts):
        slide = parts["ppt/slides/slide1.xml"].decode()
        slide = slide.replace("</p:cSld>", '<p:custDataLst><p:tags r:id="rIdT1"/></p:custDataLst></p:cSld>', 1)
        slide = slide.replace("</p:sld>", '<p:extLst><p:ext uri="{BB962C8B-B14F-4D97-AF65-F5344CB8AC3E}"><p14:creationId xmlns:p14="http://schemas.microsoft.com/office/powerpoint/2010/main" val="2840017715"/></p:ext></p:extLst></p:sld>')
        parts["ppt/slides/slide1.xml"] = slide.encode()
        add_rel(parts, "ppt/slides/_rels/slide1.xml.rels", "rIdT1", REL + "tags", "../tags/tag1.xml")
        parts["ppt/tags/tag1.xml"] = b'<p:tagLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:tag name="AUTHOR_MACHINE" val="HASAN-LAPTOP"/></p:tagLst>'
        add_override(parts, "/ppt/tags/tag1.xml", "application/vnd.openxmlformats-officedocument.presentationml.tags+xml")
        if plain:
            return
        add_rel(parts, "ppt/slides/_rels/slide1.xml.rels", "rIdC1", REL + "comments", "../comments/comment1.xml")
        parts["ppt/comments/comment1.xml"] = b'<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm authorId="0" dt="2026-11-02T06:12:00.000" idx="1"><p:pos x="10" y="10"/><p:text>My cousin told me this.</p:text></p:cm></p:cmLst>'
        add_override(parts, "/ppt/comments/comment1.xml", "application/vnd.openxmlformats-officedocument.presentationml.comments+xml")
        add_rel(parts, "ppt/_rels/presentation.xml.rels", "rIdA1", REL + "commentAuthors", "commentAuthors.xml")
        parts["ppt/commentAuthors.xml"] = b'<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cmAuthor id="0" name="Hasan K." initials="HK" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'
        add_override(parts, "/ppt/commentAuthors.xml", "application/vnd.openxmlformats-officedocument.presentationml.commentAuthors+xml")

    rewrite(out, plant)


def read(path):
    if path.endswith(".xlsx"):
        from openpyxl import load_workbook

        wb = load_workbook(path)
        sheets = []
        for ws in wb.worksheets:
            cells = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
            sheets.append({
                "title": ws.title,
                "state": ws.sheet_state,
                "cells": cells,
                "images": len(ws._images),
                "links": sorted(c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink),
                "comments": sorted(c.comment.author for row in ws.iter_rows() for c in row if c.comment),
            })
        return {"sheets": sheets, "creator": wb.properties.creator, "last_modified_by": wb.properties.lastModifiedBy}
    from pptx import Presentation

    prs = Presentation(path)
    slides = []
    for slide in prs.slides:
        texts, links, pictures = [], [], 0
        for shape in slide.shapes:
            if shape.shape_type == 13:
                pictures += 1
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
                for p in shape.text_frame.paragraphs:
                    links += [r.hyperlink.address for r in p.runs if r.hyperlink.address]
        slides.append({
            "texts": texts,
            "links": links,
            "pictures": pictures,
            "hidden": slide._element.get("show") == "0",
            "notes": slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else None,
        })
    core = prs.core_properties
    return {"slides": slides, "author": core.author, "last_modified_by": core.last_modified_by, "comments": core.comments}


def main():
    command, path = sys.argv[1], sys.argv[2]
    if command == "make-xlsx":
        make_xlsx(path, sys.argv[3], "--fetching" in sys.argv)
    elif command == "make-pptx":
        make_pptx(path, sys.argv[3])
    elif command == "read":
        print(json.dumps(read(path), sort_keys=True, default=str))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
