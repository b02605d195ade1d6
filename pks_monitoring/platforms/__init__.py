"""One patch set per platform, selected by the `platform` setting (kube-prometheus'
`platforms/` idea)."""

from __future__ import annotations

from pks_monitoring.parts.part import Part
from pks_monitoring.platforms import pks, upstream

PLATFORMS: dict[str, Part] = {"pks": pks.PART, "upstream": upstream.PART}
