#!/usr/bin/env python3
"""SVG plot for scripts/bench-scale.sh: restart time to idle and steady-state RSS against N, ours
and upstream (no plotting library needed).

  plot_scale.py RESULTS OUT.svg N...

RESULTS holds `key=value` lines; used: restart.KIND.N.idle_s and restart.KIND.N.rss_kb.
"""
import sys

COLORS = {"ours": "#1f77b4", "upstream": "#d62728"}


def main():
    results = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                results[k] = v
    out, ns = sys.argv[2], [int(n) for n in sys.argv[3:]]
    panels = [("idle_s", "restart: time to idle (s)", 1.0), ("rss_kb", "steady-state RSS (MiB)", 1 / 1024)]
    w, h, pad = 420, 300, 50
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (w * len(panels), h + 30)]
    for p, (field, title, scale) in enumerate(panels):
        x0 = p * w
        series = {}
        for kind in COLORS:
            pts = []
            for n in ns:
                v = results.get("restart.%s.%d.%s" % (kind, n, field))
                if v not in (None, ""):
                    pts.append((n, float(v) * scale))
            series[kind] = pts
        ymax = max([y for pts in series.values() for _, y in pts] + [1e-9]) * 1.1
        xmax = max(ns) * 1.05

        def px(n):
            return x0 + pad + (w - 2 * pad) * n / xmax

        def py(y):
            return h - pad + 10 - (h - 2 * pad) * y / ymax

        svg.append('<text x="%d" y="18" font-size="13">%s</text>' % (x0 + pad, title))
        svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (px(0), py(0), px(xmax), py(0)))
        svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (px(0), py(0), px(0), py(ymax)))
        for n in ns:
            svg.append('<text x="%.0f" y="%.0f" text-anchor="middle">%d</text>' % (px(n), py(0) + 14, n))
        for i in range(5):
            y = ymax * i / 4
            svg.append('<text x="%.0f" y="%.0f" text-anchor="end">%.1f</text>' % (px(0) - 4, py(y) + 4, y))
        svg.append('<text x="%.0f" y="%.0f" text-anchor="middle">SealedSecrets (N)</text>' % (px(xmax / 2), py(0) + 28))
        for j, (kind, pts) in enumerate(series.items()):
            if pts:
                svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                           % (COLORS[kind], " ".join("%.1f,%.1f" % (px(n), py(y)) for n, y in pts)))
                for n, y in pts:
                    svg.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(n), py(y), COLORS[kind]))
            svg.append('<text x="%d" y="%d" fill="%s">%s</text>' % (x0 + pad + 10, 36 + 14 * j, COLORS[kind], kind))
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
