/** A small SVG bar chart (no library: a handful of bars needs none). */
export function BarChart({ title, data, unit = '' }: { title: string; data: Array<{ label: string; value: number }>; unit?: string }) {
  const W = 560;
  const H = 200;
  const max = Math.max(0, ...data.map((d) => d.value)) || 1;
  const bw = data.length ? (W - 40) / data.length : 0;
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>
        <strong>{title}</strong>
      </figcaption>
      <svg
        role="img"
        aria-label={title}
        viewBox={`0 0 ${W} ${H + 40}`}
        width="100%"
        style={{ background: '#fff', border: '1px solid #d9dde3', borderRadius: 5 }}
      >
        <line x1={30} y1={H + 5} x2={W - 5} y2={H + 5} stroke="#9aa3ad" />
        <text x={4} y={14} fontSize="11" fill="#5f6b7a">
          {max}
          {unit}
        </text>
        {data.map((d, i) => {
          const h = (d.value / max) * (H - 20);
          return (
            <g key={d.label} data-bar={d.label} data-value={d.value}>
              <title>{`${d.label}: ${d.value}${unit}`}</title>
              <rect x={35 + i * bw} y={H + 5 - h} width={Math.max(2, bw - 6)} height={h} fill="#1f5eff" rx={2} />
              {d.value ? (
                <text x={35 + i * bw + (bw - 6) / 2} y={H - h} textAnchor="middle" fontSize="11">
                  {d.value}
                </text>
              ) : null}
              <text x={35 + i * bw + (bw - 6) / 2} y={H + 22} textAnchor="middle" fontSize="10" fill="#5f6b7a">
                {d.label}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
