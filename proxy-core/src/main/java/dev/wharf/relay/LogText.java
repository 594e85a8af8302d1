package dev.wharf.relay;

/** What may go into a log line from the network: one line of plain text, of bounded length. */
public final class LogText {
    private LogText() {
    }

    /** {@code text} with every character outside printable ASCII as '?', cut at {@code max} characters ("..." then). */
    public static String printable(String text, int max) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), max));
        for (int i = 0; i < text.length() && out.length() < max; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return text.length() > max ? out + "..." : out.toString();
    }
}
