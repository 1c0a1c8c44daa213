"""Settings of the figure generator (`ShapesConfig`) and the names of its families and orientations."""

from __future__ import annotations

from dataclasses import dataclass, field

from latentatlas.errors import ConfigError

FAMILIES: tuple[str, ...] = ("cylinder", "cone", "sphere", "capsule", "box")
ORIENTATIONS: tuple[str, ...] = ("I", "II")  # 0 = standing, 1 = lying
DEFAULT_TILT = 0.3


@dataclass
class ShapesConfig:
    """Generator settings; defaults give seed 004's setting (64x64 cylinders, both types, uniform factors).

    Ranges are `(low, high)` sampled uniformly; `low == high` fixes the factor. Lengths are in pixels.
    `height` is the length of the figure's axis (between the ellipse centers, apex to base center, or the
    straight part of a capsule); a sphere has no height of its own and records `2 * radius`.
    """

    family: list[str] = field(default_factory=lambda: ["cylinder"])
    size: int = 64
    height: tuple[float, float] = (12.0, 32.0)
    radius: tuple[float, float] = (6.0, 14.0)
    p_lying: float = 0.5
    stroke: float = 2.0
    fill: bool = False
    shift: tuple[float, float] = (0.0, 0.0)  # offset of the center from the image center, per axis
    tilt: tuple[float, float] = (DEFAULT_TILT, DEFAULT_TILT)

    def validate(self, prefix: str = "data.shapes") -> None:
        """Raise ConfigError naming the first bad key (`{prefix}.key: problem; fix`)."""
        if isinstance(self.family, str):
            raise ConfigError(f"{prefix}.family: {self.family!r} is a string; write a list, e.g. [{self.family}]")
        for name in self.family:
            if name not in FAMILIES:
                raise ConfigError(f"{prefix}.family: {name!r} is not one of {', '.join(FAMILIES)}")
        if not self.family:
            raise ConfigError(f"{prefix}.family: empty list; give at least one of {', '.join(FAMILIES)}")
        if self.size < 8:
            raise ConfigError(f"{prefix}.size: {self.size} is too small; use at least 8 pixels")
        if self.stroke < 1.0:
            raise ConfigError(f"{prefix}.stroke: {self.stroke} leaves gaps on a pixel grid; use at least 1.0")
        if not 0.0 <= self.p_lying <= 1.0:
            raise ConfigError(f"{prefix}.p_lying: {self.p_lying} is not a probability; use a value in [0, 1]")
        for key, positive in (("height", True), ("radius", True), ("tilt", True), ("shift", False)):
            lo, hi = getattr(self, key)
            if lo > hi:
                raise ConfigError(f"{prefix}.{key}: low {lo} > high {hi}; write the range as [low, high]")
            if positive and lo <= 0:
                raise ConfigError(f"{prefix}.{key}: {lo} is not positive; use values > 0")
        if self.tilt[1] > 1.0:
            raise ConfigError(f"{prefix}.tilt: {self.tilt[1]} > 1; tilt is minor/major of an ellipse, in (0, 1]")
        if "cone" in self.family and self.height[0] <= self.tilt[1] * self.radius[1]:
            raise ConfigError(
                f"{prefix}.height: a cone needs height > tilt * radius (apex outside its base ellipse); "
                f"raise the low height above {self.tilt[1] * self.radius[1]:g}"
            )
        room = self.size / 2 - 1 - self.stroke / 2 - max(abs(self.shift[0]), abs(self.shift[1]))
        for name in self.family:
            along, across = half_extent(name, self.height[1], self.radius[1], self.tilt[1])
            if max(along, across) > room:
                raise ConfigError(
                    f"{prefix}.height/radius: a {name} of height {self.height[1]:g} and radius "
                    f"{self.radius[1]:g} reaches {max(along, across):g} px from its center but only {room:g} "
                    f"fit in a {self.size}-px image; lower the high ends of the ranges or raise size"
                )


def half_extent(family: str, height: float, radius: float, tilt: float) -> tuple[float, float]:
    """Distance from the figure's center to its farthest curve point: `(along the axis, across it)`."""
    b = tilt * radius
    along = {
        "cylinder": height / 2 + b,
        "cone": height / 2 + b,
        "sphere": radius,
        "capsule": height / 2 + radius,
        "box": height / 2 + b,
    }[family]
    return along, radius
