"""The one PDF renderer: a Django template rendered to HTML and laid out by WeasyPrint.

    pdf = render_pdf("reports/pack_pdf.html", {"data": data}, request=request)
    return exports.audited_download(request, pdf_export(pdf), filename="pack-2026-11", ...)

Templates extend `zhongdu/pdf_base.html`, laid out by `zhongdu/pdf.css`: A4 pages with margins,
the hospital's name and the page number in the margins, and the "Noto Sans CJK SC" family for the
text (Debian's fonts-noto-cjk; WeasyPrint itself needs Pango: libpango-1.0-0 and
libpangoft2-1.0-0, see the README). Charts are
inline SVG (zhongdu.charts), so nothing is fetched: the renderer is given a URL fetcher that
refuses every address but inline `data:` ones, and a template can never make the server call
the network or read its files.
"""

from pathlib import Path

from django.template.loader import render_to_string

from .exports import Export
from .models import HospitalProfile

PDF_TYPE = "application/pdf"
# The pages' layout, given to WeasyPrint as a file: templates carry no inline style (the
# content-security policy's rule for every template).
STYLESHEET = Path(__file__).with_name("pdf.css")


def hospital_name() -> str:
    """The name every document the hospital hands out carries: the one patients see, from the
    hospital's profile (the slips, the public pages and the SMS read it there too)."""
    return HospitalProfile.current().name


def _no_fetching(url, *args, **kwargs):
    from weasyprint.urls import default_url_fetcher

    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"PDFs fetch nothing; refused {url[:80]!r}")


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """The template rendered (with the request's context processors when given) as a PDF."""
    # Imported here: WeasyPrint loads Pango when imported, which only the PDF views need.
    from weasyprint import CSS, HTML

    context = {"hospital": hospital_name(), **context}
    html = render_to_string(template_name, context, request=request)
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET), url_fetcher=_no_fetching)]
    )


def pdf_export(content: bytes) -> Export:
    """A rendered PDF as a file for zhongdu.exports.audited_download."""
    return Export(content, "pdf", PDF_TYPE)
