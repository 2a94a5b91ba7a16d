"""A CSS path that finds an element of a page again: from the nearest ancestor with an
id, by tag and position among siblings of its tag (used when no words name it)."""

import lxml.html


def css_path(element: lxml.html.HtmlElement) -> str:
    """A CSS selector for the element: from the nearest ancestor with an id, by tag and
    position among siblings of its tag."""
    steps: list[str] = []
    node = element
    while node is not None and isinstance(node.tag, str):
        if node.get("id"):
            steps.append(f"#{node.get('id')}")
            break
        parent = node.getparent()
        if parent is None:
            steps.append(node.tag)
            break
        same = [sibling for sibling in parent if sibling.tag == node.tag]
        position = same.index(node) + 1
        steps.append(node.tag if len(same) == 1 else f"{node.tag}:nth-of-type({position})")
        node = parent
    return " > ".join(reversed(steps))
