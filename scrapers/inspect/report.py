"""A proposal in words: what the candidate is, what it looks like, the block, and what
the block would store (the dry run). The CLI prints these lines; the web page shows them."""

from scrapers.inspect.survey import Proposal
from scrapers.recorder import sample

SAMPLES = 4


def lines(proposal: Proposal, command: str = "") -> list[str]:
    """The candidate's heading and details, then its block and the values it stores, or
    why its dry run read nothing; `command` is how to pick it (`crossings inspect URL`)."""
    candidate = proposal.candidate
    said = [f"[{candidate.number}] {candidate.what}"]
    said += [f"    {detail}" for detail in candidate.details]
    if candidate.follow:
        said.append(f"    {command} --pick {candidate.number}: reads the newest file and "
                    "proposes its block")  # fmt: skip
        return said
    if not candidate.kind:
        return said
    if proposal.deferred:
        said.append(f"    {command} --pick {candidate.number}: its block and the values it "
                    "would store")  # fmt: skip
        return said
    if proposal.extraction is None:
        said.append(f"    not proposed: its dry run read nothing: {proposal.problem}")
        return said
    said.append("")
    said += proposal.block().rstrip("\n").splitlines()
    said.append(f"# would store {stored(proposal)}")
    said.append("")
    return said


def stored(proposal: Proposal) -> str:
    """'42 values: cbp.custody.total 2025-10 = 902; ...' - what the dry run found."""
    extraction = proposal.extraction
    if extraction is None:
        return "nothing"
    count, _, found = sample(extraction, SAMPLES).removeprefix("found ").partition(": ")
    return f"{count} {'news items' if extraction.news else 'values'}: {found}"
