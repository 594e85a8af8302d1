package dev.wharf.bench.report;

import dev.wharf.bench.model.Result;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The three PNG charts. Each is a grouped bar chart (one bar group per category, one series per
 * target) built by {@link #bars}; a chart with no data is not written.
 */
final class Charts {
    static final int WIDTH = 1000;
    static final int HEIGHT = 600;

    /**
     * Colours by position in the run's full target list, so a target keeps its colour across the
     * charts even in the one that leaves direct out.
     */
    private static final List<Color> PALETTE = List.of(
            new Color(0x7f7f7f), new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e),
            new Color(0x2ca02c), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2));

    /** One bar group: a metric of a scenario, with the label shown under it. */
    private record Category(String label, String scenario, String metric) {
    }

    private Charts() {
    }

    static void write(Path dir, RunData data) throws IOException {
        save(throughput(data), dir.resolve("throughput.png"));
        save(latency(data), dir.resolve("latency.png"));
        save(requests(data), dir.resolve("requests.png"));
    }

    /** Bulk transfer throughput per scenario. */
    private static Optional<CategoryChart> throughput(RunData data) {
        List<Category> categories = data.scenarios().stream()
                .filter(s -> s.startsWith("bulk-") && data.metrics(s).contains("throughput"))
                .map(s -> new Category(s, s, "throughput"))
                .toList();
        // xchart only draws symmetric error bars, so each whisker spans the larger of the two
        // deviations from the median: the drawn interval always covers the full min–max range.
        return bars(data, "Bulk throughput (median, whiskers cover min–max)", unit(data, categories), categories,
                data.targets(), median(data),
                (c, t) -> data.get(c.scenario, t, c.metric)
                        .map(r -> Math.max(r.max() - r.median(), r.median() - r.min())).orElse(null))
                .map(chart -> {
                    chart.getStyler().setYAxisMin(0.0);
                    return chart;
                });
    }

    /** Closed-loop request/response latency percentiles, grouped by message size. */
    private static Optional<CategoryChart> latency(RunData data) {
        List<Category> categories = Stream.of("rr-closed-64B", "rr-closed-4KiB")
                .flatMap(s -> Stream.of("p50", "p99", "p99.9")
                        .filter(p -> data.metrics(s).contains(p))
                        .map(p -> new Category(s.substring("rr-closed-".length()) + " " + p, s, p)))
                .toList();
        return bars(data, "Closed-loop request/response latency (median)", unit(data, categories), categories,
                data.targets(), median(data), null)
                .map(chart -> {
                    // Tail percentiles can be orders of magnitude above p50; a log axis keeps p50 visible.
                    DoubleSummaryStatistics values = values(categories, data.targets(), median(data));
                    double min = values.getMin();
                    double max = values.getMax();
                    if (min > 0 && max / min > 10) {
                        // Bars start at zero, which a log axis cannot show: span whole decades instead,
                        // so both ends carry a tick label.
                        chart.getStyler().setYAxisLogarithmic(true);
                        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
                        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max))));
                    }
                    return chart;
                });
    }

    /** Request and connection rates relative to direct, so workloads of very different scale share one axis. */
    private static Optional<CategoryChart> requests(RunData data) {
        List<String> families = List.of("rr-closed-", "conn-rate", "redis-benchmark-", "pgbench");
        List<String> rateMetrics = List.of("rate", "SET", "GET", "tps");
        List<Category> categories = data.scenarios().stream()
                .filter(s -> families.stream().anyMatch(s::startsWith))
                .flatMap(s -> data.metrics(s).stream().filter(rateMetrics::contains)
                        .filter(m -> data.median(s, RunData.DIRECT, m) > 0)
                        .map(m -> new Category(s + " " + m, s, m)))
                .toList();
        List<String> targets = data.targets().stream().filter(t -> !t.equals(RunData.DIRECT)).toList();
        BiFunction<Category, String, Double> relative = (c, t) -> data.get(c.scenario, t, c.metric)
                .map(r -> r.median() / data.median(c.scenario, RunData.DIRECT, c.metric)).orElse(null);
        return bars(data, "Request rates relative to direct (direct = 1.0, median)", "× direct", categories, targets,
                relative, null)
                .map(chart -> {
                    chart.getStyler().setYAxisMin(0.0);
                    // The direct = 1.0 line is the point of the chart, so keep it inside the plot.
                    if (values(categories, targets, relative).getMax() < 1.1) {
                        chart.getStyler().setYAxisMax(1.1);
                    }
                    chart.addAnnotation(new AnnotationLine(1.0, false, false));
                    // Labels like "redis-benchmark-P16 GET" collide when there are many groups.
                    chart.getStyler().setXAxisLabelRotation(categories.size() > 4 ? 20 : 0);
                    return chart;
                });
    }

    /**
     * A styled grouped bar chart, or empty when there is nothing to draw. {@code value} and
     * {@code error} return null for "no bar"; {@code error} itself is null for no error bars.
     */
    private static Optional<CategoryChart> bars(RunData data, String title, String yTitle,
                                                List<Category> categories, List<String> targets,
                                                BiFunction<Category, String, Double> value,
                                                BiFunction<Category, String, Double> error) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).yAxisTitle(yTitle).build();
        style(chart.getStyler());
        List<String> labels = categories.stream().map(Category::label).toList();
        boolean anyBars = false;
        for (String target : targets) {
            List<Double> values = new ArrayList<>();
            List<Double> errors = new ArrayList<>();
            for (Category c : categories) {
                values.add(value.apply(c, target));
                errors.add(error == null ? null : error.apply(c, target));
            }
            if (values.stream().allMatch(v -> v == null)) {
                continue; // A target absent from every category would only add an empty legend entry.
            }
            anyBars = true;
            CategorySeries series = error == null
                    ? chart.addSeries(target, labels, values)
                    : chart.addSeries(target, labels, values, errors);
            series.setFillColor(PALETTE.get(data.targets().indexOf(target) % PALETTE.size()));
        }
        return anyBars ? Optional.of(chart) : Optional.empty();
    }

    private static BiFunction<Category, String, Double> median(RunData data) {
        return (c, t) -> data.get(c.scenario, t, c.metric).map(Result::median).orElse(null);
    }

    /** Range of the values a chart draws, for choosing its axis. */
    private static DoubleSummaryStatistics values(List<Category> categories, List<String> targets,
                                                  BiFunction<Category, String, Double> value) {
        return categories.stream().flatMap(c -> targets.stream().map(t -> value.apply(c, t)))
                .filter(v -> v != null).mapToDouble(Double::doubleValue).summaryStatistics();
    }

    private static void style(CategoryStyler styler) {
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 22));
        styler.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 18));
        styler.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 16));
        styler.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 16));
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendLayout(Styler.LegendLayout.Horizontal);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridVerticalLinesVisible(false);
        styler.setErrorBarsColor(Color.BLACK);
    }

    private static String unit(RunData data, List<Category> categories) {
        return categories.stream()
                .flatMap(c -> data.targets().stream().flatMap(t -> data.get(c.scenario, t, c.metric).stream()))
                .map(Result::unit).findFirst().orElse("");
    }

    private static void save(Optional<CategoryChart> chart, Path file) throws IOException {
        if (chart.isPresent()) {
            ImageIO.write(BitmapEncoder.getBufferedImage(chart.get()), "png", file.toFile());
        } else {
            // An earlier run's chart left in a reused directory would pass for this run's.
            Files.deleteIfExists(file);
        }
    }
}
