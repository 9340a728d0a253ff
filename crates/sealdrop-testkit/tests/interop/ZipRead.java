// Lists a ZIP archive's entries as "<name>\t<size>\t<sha256>", read either
// as a stream (java.util.zip.ZipInputStream, local headers and data
// descriptors only) or through the central directory (java.util.zip.ZipFile).
// Used by tests/format/interop.rs: `java tests/interop/ZipRead.java stream|file ARCHIVE`.
import java.io.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.zip.*;

public class ZipRead {
    static String digest(InputStream in, long[] size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
            sha.update(buf, 0, n);
            size[0] += n;
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : sha.digest()) hex.append(String.format("%02x", b));
        return hex.toString();
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        if (args[0].equals("stream")) {
            try (ZipInputStream zin = new ZipInputStream(new FileInputStream(args[1]), java.nio.charset.StandardCharsets.UTF_8)) {
                ZipEntry e;
                while ((e = zin.getNextEntry()) != null) {
                    long[] size = {0};
                    String sha = digest(zin, size);
                    out.println(e.getName() + "\t" + size[0] + "\t" + sha);
                }
            }
        } else {
            try (ZipFile zf = new ZipFile(args[1], java.nio.charset.StandardCharsets.UTF_8)) {
                for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements();) {
                    ZipEntry e = en.nextElement();
                    long[] size = {0};
                    String sha = digest(zf.getInputStream(e), size);
                    out.println(e.getName() + "\t" + size[0] + "\t" + sha);
                }
            }
        }
    }
}
