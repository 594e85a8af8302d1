package dev.wharf.bench.report;

import dev.wharf.bench.model.Result;

import java.math.BigDecimal;
import java.math.MathContext;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/** The one place numbers become text, so every table and chart label reads the same way. */
final class Fmt {
    /** Shown for a missing or undefined value (absent target, division by zero). */
    static final String NONE = "–";

    private static final MathContext SIGNIFICANT = new MathContext(3);

    private Fmt() {
    }

    /**
     * Three significant digits with thousands separators: 0.0968, 0.800, 9.73, 97.3, 12,300. A
     * whole number gets no decimals (16, not 16.0), so counts and byte sizes read as integers.
     */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return NONE;
        }
        BigDecimal rounded = new BigDecimal(v).round(SIGNIFICANT);
        int integerDigits = rounded.precision() - rounded.scale();
        // Pad to three significant digits even when the binary value is short (0.5 → 0.500), so a
        // median and its range read at the same precision.
        int decimals = v == Math.rint(v) ? 0 : Math.max(0, SIGNIFICANT.getPrecision() - integerDigits);
        DecimalFormat format = new DecimalFormat("#,##0", DecimalFormatSymbols.getInstance(Locale.ROOT));
        format.setMinimumFractionDigits(decimals);
        format.setMaximumFractionDigits(decimals);
        return format.format(rounded);
    }

    /** "median (min–max)"; just the median when all rounds agree, as a range of one value is noise. */
    static String range(Result r) {
        String median = num(r.median());
        return r.min() == r.max() ? median : median + " (" + num(r.min()) + "–" + num(r.max()) + ")";
    }

    /**
     * A ratio of two medians, e.g. "0.80×"; {@link #NONE} if either is missing or the reference is
     * zero. Below 0.1, two decimals would lose the value, so it gets three significant digits.
     */
    static String ratio(double value, double reference) {
        double ratio = value / reference;
        if (!Double.isFinite(ratio)) {
            return NONE;
        }
        return (Math.abs(ratio) < 0.1 ? num(ratio) : String.format(Locale.ROOT, "%.2f", ratio)) + "×";
    }
}
