package dev.wharf.bench.report;

import dev.wharf.bench.model.Result;
import dev.wharf.bench.model.RunInfo;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/** Renders results.md: run header, headline table, then one table per scenario, all via {@link #table}. */
final class Markdown {
    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** One table row: a metric of a scenario; headline rows name the scenario, scenario tables need not. */
    private record Row(String scenario, String metric, boolean showScenario) {
    }

    /** The numbers a README reader wants first: one per kind of workload. */
    private static final List<Row> HEADLINE = List.of(
            new Row("bulk-1-upload", "throughput", true),
            new Row("rr-closed-64B", "rate", true),
            new Row("rr-closed-64B", "p99", true),
            new Row("conn-rate", "rate", true),
            new Row("idle", "memory-per-conn", true),
            new Row("redis-benchmark-P16", "GET", true),
            new Row("pgbench", "tps", true));

    private Markdown() {
    }

    static String report(RunInfo info, RunData data) {
        StringBuilder md = new StringBuilder();
        md.append("# Wharf benchmark results — ").append(DATE.format(info.started())).append("\n\n");
        md.append("- Machine: ").append(info.machine()).append(", ").append(info.cpus()).append(" CPUs\n");
        md.append("- Kernel: ").append(info.kernel()).append('\n');
        md.append("- Java: ").append(info.java()).append('\n');
        md.append("- Mode: ").append(info.quick() ? "quick" : "full").append(" run, ")
                .append(info.rounds()).append(" rounds per measurement\n");
        if (!info.notes().isEmpty()) {
            md.append("- Notes:\n");
            info.notes().forEach(note -> md.append("  - ").append(note).append('\n'));
        }
        md.append("\nEach cell is the median over the rounds, with (min–max) in the per-scenario tables; ")
                .append("ratio columns divide a target's median by the reference target's median from this same run, ")
                .append("so >1× means \"more\", not necessarily better: ")
                .append("↑ marks metrics where higher is better, ↓ where lower is better, ")
                .append("and ✓ marks a target that beats HAProxy on that metric.\n\n");
        md.append("## Headline\n\n").append(headline(data));
        for (String scenario : data.scenarios()) {
            List<Row> rows = data.metrics(scenario).stream().map(m -> new Row(scenario, m, false)).toList();
            md.append("\n## ").append(scenario).append("\n\n").append(table(data, rows, Fmt::range));
        }
        return md.toString();
    }

    /** The headline table alone, medians only (ranges would make it too wide for a README). */
    static String headline(RunData data) {
        List<Row> rows = HEADLINE.stream()
                .filter(row -> data.targets().stream().anyMatch(t -> has(data, row, t)))
                .toList();
        return rows.isEmpty() ? "_No headline metrics in this run._\n" : table(data, rows, r -> Fmt.num(r.median()));
    }

    /** Columns per target: its value, then its ratio to each reference target present in the table. */
    private static String table(RunData data, List<Row> rows, Function<Result, String> value) {
        List<String> targets = data.targets().stream()
                .filter(t -> rows.stream().anyMatch(row -> has(data, row, t)))
                .toList();
        List<String> header = new ArrayList<>(List.of("Metric"));
        for (String t : targets) {
            header.add(t);
            references(t, targets).forEach(ref -> header.add(t + " vs " + ref));
        }
        StringBuilder md = new StringBuilder(line(header));
        // Metric names left-aligned, numbers right-aligned so magnitudes line up in rendered tables.
        md.append(line(Stream.concat(Stream.of(":---"), Stream.generate(() -> "---:").limit(header.size() - 1)).toList()));
        for (Row row : rows) {
            List<String> cells = new ArrayList<>(List.of(label(data, row, targets)));
            for (String t : targets) {
                cells.add(data.get(row.scenario, t, row.metric).map(value).orElse(Fmt.NONE));
                references(t, targets).forEach(ref -> cells.add(ratio(data, row, t, ref)));
            }
            md.append(line(cells));
        }
        return md.toString();
    }

    private static boolean has(RunData data, Row row, String target) {
        return data.get(row.scenario, target, row.metric).isPresent();
    }

    /** Direct and HAProxy are the yardsticks; a target is not compared with itself, and direct with nothing. */
    private static List<String> references(String target, List<String> targets) {
        if (target.equals(RunData.DIRECT)) {
            return List.of();
        }
        return Stream.of(RunData.DIRECT, RunData.HAPROXY)
                .filter(ref -> !ref.equals(target) && targets.contains(ref))
                .toList();
    }

    private static String ratio(RunData data, Row row, String target, String reference) {
        double value = data.median(row.scenario, target, row.metric);
        double ref = data.median(row.scenario, reference, row.metric);
        boolean beatsHaproxy = reference.equals(RunData.HAPROXY) && Direction.of(row.metric).beats(value, ref);
        return Fmt.ratio(value, ref) + (beatsHaproxy ? " ✓" : "");
    }

    /** "throughput ↑ (Gbit/s)", prefixed with the scenario in the headline. */
    private static String label(RunData data, Row row, List<String> targets) {
        String unit = targets.stream()
                .flatMap(t -> data.get(row.scenario, t, row.metric).stream())
                .map(Result::unit).findFirst().orElse("");
        String arrow = Direction.of(row.metric).arrow;
        return (row.showScenario ? row.scenario + " " : "") + row.metric
                + (arrow.isEmpty() ? "" : " " + arrow)
                + (unit.isEmpty() ? "" : " (" + unit + ")");
    }

    private static String line(List<String> cells) {
        // A "|" inside a name would split the cell.
        return "| " + String.join(" | ", cells.stream().map(c -> c.replace("|", "\\|")).toList()) + " |\n";
    }
}
