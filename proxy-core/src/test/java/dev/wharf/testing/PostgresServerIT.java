package dev.wharf.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresServerIT {

    @RegisterExtension
    static final PostgresServer PG = new PostgresServer();

    @Test
    void createInsertSelect() throws SQLException {
        assertEquals("jdbc:postgresql://127.0.0.1:" + PG.port() + "/postgres?user=postgres", PG.jdbcUrl());
        try (Connection c = DriverManager.getConnection(PG.jdbcUrl()); Statement s = c.createStatement()) {
            s.execute("create table berth (id int primary key, ship text not null)");
            s.execute("insert into berth values (1, 'Evergreen'), (2, 'Maersk')");
            try (ResultSet rs = s.executeQuery("select ship from berth where id = 2")) {
                assertTrue(rs.next());
                assertEquals("Maersk", rs.getString(1));
            }
        }
    }

    @Test
    void stopThenStartServesOnTheSamePort() throws SQLException {
        int port = PG.port();
        PG.stop();
        assertFalse(PG.isRunning());
        assertThrows(SQLException.class, () -> DriverManager.getConnection(PG.jdbcUrl()).close());

        PG.start();
        assertEquals(port, PG.port());
        try (Connection c = PG.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            assertTrue(rs.next());
        }
    }

    @Test
    void closeDeletesTheDirectoryAndKillsTheServer() throws Exception {
        Path dir;
        int port;
        try (PostgresServer other = new PostgresServer()) {
            other.start();
            dir = other.dir();
            port = other.port();
            assertTrue(Files.isDirectory(dir.resolve("data")));
            try (Connection c = other.connect()) {
                assertTrue(c.isValid(2));
            }
        }
        assertFalse(Files.exists(dir));
        assertThrows(SQLException.class,
                () -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres").close());
    }
}
