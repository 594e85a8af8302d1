package dev.wharf.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wharf.testing.PostgresServer;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;

/** A real PostgreSQL behind Wharf, driven over JDBC. */
class PostgresRelayIT {
    @RegisterExtension
    static final PostgresServer PG = new PostgresServer();

    static TestWharf wharf;

    @BeforeAll
    static void startWharf() throws Exception {
        wharf = TestWharf.start(RelayIT.listener("postgres", Clients.freePort(), "", "127.0.0.1:" + PG.port()));
    }

    @AfterAll
    static void stopWharf() {
        wharf.close();
    }

    private static Connection connect() throws Exception {
        return DriverManager.getConnection(PG.jdbcUrl("127.0.0.1", wharf.port("postgres")));
    }

    @Test
    void createInsertSelect() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("create table fruit (id int primary key, name text)");
            st.execute("insert into fruit values (1, 'apple'), (2, 'pear'), (3, 'fig')");
            try (ResultSet rs = st.executeQuery("select string_agg(name, ',' order by id) from fruit")) {
                rs.next();
                assertEquals("apple,pear,fig", rs.getString(1));
            }
        }
    }

    @Test
    void copyOf50MegabytesArrivesWhole() throws Exception {
        int rows = 200_000;
        int width = 256;
        long payload = (long) rows * width;
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("create table blob_rows (n int, data text)");
            double before = wharf.metric("wharf_bytes_total", "listener", "postgres", "direction", "to_upstream");
            // when 51 MB of rows are copied in through Wharf
            long copied = ((PGConnection) c).getCopyAPI().copyIn("COPY blob_rows FROM STDIN", new RowStream(rows, width));
            // then every row and every byte is there
            assertEquals(rows, copied);
            try (ResultSet rs = st.executeQuery("select count(*), sum(octet_length(data)), sum(n::bigint) from blob_rows")) {
                rs.next();
                assertEquals(rows, rs.getLong(1));
                assertEquals(payload, rs.getLong(2));
                assertEquals((long) rows * (rows - 1) / 2, rs.getLong(3));
            }
            double relayed = wharf.metric("wharf_bytes_total", "listener", "postgres", "direction", "to_upstream") - before;
            assertTrue(relayed >= payload, "Wharf counted " + relayed + " bytes to upstream for " + payload + " of rows");
            assertTrue(payload >= 50_000_000L);
        }
    }

    /** COPY text rows {@code n \t xxxx...} generated on the fly, so no 50 MB array is held. */
    private static final class RowStream extends InputStream {
        private final int rows;
        private final byte[] line;
        private int row;
        private int pos;
        private int lineLength;

        RowStream(int rows, int width) {
            this.rows = rows;
            this.line = new byte[16 + width];
            this.pos = 0;
            this.lineLength = 0;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == lineLength) {
                if (row == rows) {
                    return -1;
                }
                byte[] n = (row + "\t").getBytes();
                System.arraycopy(n, 0, line, 0, n.length);
                int width = line.length - 16;
                for (int i = 0; i < width; i++) {
                    line[n.length + i] = (byte) ('a' + (row + i) % 26);
                }
                line[n.length + width] = '\n';
                lineLength = n.length + width + 1;
                pos = 0;
                row++;
            }
            int count = Math.min(len, lineLength - pos);
            System.arraycopy(line, pos, b, off, count);
            pos += count;
            return count;
        }
    }
}
