"""Read the stock markup (SPEC §6) out of a rendered page, with the standard HTML parser."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_TAGS = {"input", "img", "br", "hr", "meta", "link", "source", "wbr", "area", "col"}


@dataclass
class StockBlock:
    """One element carrying `data-product-id`, and what the server rendered inside it."""

    product_id: int
    status: str
    forms: list[dict[str, str]] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def input_names(self) -> set[str]:
        return {i.get("name", "") for i in self.inputs}


class _StockParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[StockBlock] = []
        self._depth = 0  # depth inside the current block, 0 when outside
        self._text_target: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self._depth == 0:
            if "data-product-id" in values:
                self.blocks.append(
                    StockBlock(
                        product_id=int(values["data-product-id"]),
                        status=values.get("data-stock-status", ""),
                    )
                )
                self._depth = 1
            return
        block = self.blocks[-1]
        if tag == "form":
            block.forms.append(values)
        elif tag == "input":
            block.inputs.append(values)
        elif tag in {"button", "span"}:
            self._text_target = block.buttons if tag == "button" else block.labels
            self._text = []
        if tag not in VOID_TAGS:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth == 0:
            return
        if self._text_target is not None and tag in {"button", "span"}:
            self._text_target.append("".join(self._text).strip())
            self._text_target = None
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._text_target is not None:
            self._text.append(data)


def stock_blocks(html: str) -> list[StockBlock]:
    """Every stock element of the page, in document order."""
    parser = _StockParser()
    parser.feed(html)
    parser.close()
    return parser.blocks


def stock_statuses(html: str) -> dict[int, str]:
    """`{product id: data-stock-status}` for the page."""
    return {block.product_id: block.status for block in stock_blocks(html)}


class _AttributeParser(HTMLParser):
    def __init__(self, tag_id: str, attribute: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag_id, self.attribute = tag_id, attribute
        self.value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id") == self.tag_id:
            self.value = values.get(self.attribute)


def attribute_of(html: str, *, tag_id: str, attribute: str) -> str | None:
    """The (unescaped) value of `attribute` on the element with this id, if any."""
    parser = _AttributeParser(tag_id, attribute)
    parser.feed(html)
    parser.close()
    return parser.value
