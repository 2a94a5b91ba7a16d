"""The `json` kind: a JSON document whose records become series."""

from dataclasses import dataclass, field

from scrapers.source import Source, as_pattern


@dataclass(frozen=True, kw_only=True, slots=True)
class JsonSource(Source, kind="json"):
    """A JSON document mapped by JMESPath expressions (records, their period, values)."""

    extractor = "scrapers.extract.jsondoc"

    records: str = field(
        default="@",
        metadata={
            "help": "JMESPath to the list of records, e.g. 'timeline'; '@' = the document "
            "itself is the list. Records lacking the period key are skipped (comments)."
        },
    )
    period: str = field(
        metadata={"help": "Key (JMESPath) of each record's period, e.g. 'fymon' or 'date'."}
    )
    values: dict[str, str] = field(
        metadata={
            "help": "Record key (JMESPath) -> metric name, e.g. { number = "
            "'trac.asylum.grants' }. Numbers may be strings like '1,234'. A key 'a - b' "
            "stores the difference, e.g. { 'total_all - total_conv' = "
            "'trac.detention.no_conviction' }."
        }
    )
    unit: str = field(default="count", metadata={"help": "Unit of the values."})

    def publishes(self) -> dict[str, str]:
        return {as_pattern(metric): self.unit for metric in self.values.values()}

    def problems(self) -> list[str]:
        found = super(JsonSource, self).problems()
        if not self.values:
            found.append("values is empty: map at least one key to a metric name")
        return found
