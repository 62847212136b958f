/* SPDX-License-Identifier: MIT */
/* ACPI tables and the MP table that describe a Tern VM's platform (docs/devices.md). */
#include "tools/mgmt/acpitab.h"

#include <stdbool.h>

#include "kernel/errno.h"
#include "kernel/string.h"
#include "vmm/abi.h"

/* The platform (docs/devices.md). */
#define PLAT_LAPIC_BASE   0xFEE00000u
#define PLAT_IOAPIC_BASE  0xFEC00000u
#define PLAT_IOAPIC_VER   0x20u /* what IOAPICVER reports (devices.md "I/O APIC") */
#define PLAT_LAPIC_VER    0x14u /* what the local APIC version register reports */
#define PLAT_PM1A_EVT     0x600u
#define PLAT_PM1A_CNT     0x604u
#define PLAT_PM_TMR       0x608u
#define PLAT_SCI_IRQ      9u
#define PLAT_RESET_PORT   0xCF9u
#define PLAT_RESET_VALUE  0x06u
#define PLAT_RTC_CENTURY  0x32u /* CMOS index of the century byte */
#define PLAT_SLP_TYP_S5   5u
#define PLAT_COM1_PORT    0x3F8u
#define PLAT_COM1_IRQ     4u
#define PLAT_PVPANIC_PORT 0x505u /* vmm/emul/vpvpanic.h */

#define OEM_ID       "TERN  "   /* 6 bytes */
#define OEM_TABLE_ID "TERNVM  " /* 8 bytes */
#define CREATOR_ID   "TERN"

/* ACPI 6.5 5.2.6 Table 5.4: the system description table header. */
#define SDT_HDR_LEN 36u

/* ACPI 6.5 5.2.5.3 Table 5.3: RSDP. */
#define RSDP_LEN     36u
#define RSDP_V1_LEN  20u

/* ACPI 6.5 5.2.9 Table 5.9: FADT, revision 6, minor version 5. */
#define FADT_LEN       276u
#define FADT_REV       6u
#define FADT_MINOR     5u
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT      40
#define FADT_PM_PROFILE 45
#define FADT_SCI_INT   46
#define FADT_SMI_CMD   48
#define FADT_PM1A_EVT  56
#define FADT_PM1A_CNT  64
#define FADT_PM_TMR    76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN  91
#define FADT_P_LVL2_LAT  96
#define FADT_P_LVL3_LAT  98
#define FADT_CENTURY   108
#define FADT_BOOT_ARCH 109
#define FADT_FLAGS     112
#define FADT_RESET_REG 116
#define FADT_RESET_VAL 128
#define FADT_MINOR_VER 131
#define FADT_X_DSDT    140
#define FADT_X_PM1A_EVT 148
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM_TMR  208
#define FADT_HV_ID     268
/* Table 5.10: fixed feature flags. */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PROC_C1       (1u << 2)
#define FADT_F_PWR_BUTTON    (1u << 4)  /* 1: no fixed-feature power button */
#define FADT_F_SLP_BUTTON    (1u << 5)  /* 1: no fixed-feature sleep button */
#define FADT_F_FIX_RTC       (1u << 6)  /* 1: no RTC_STS wake status in PM1 */
#define FADT_F_TMR_VAL_EXT   (1u << 8)  /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP (1u << 10)
/* Table 5.11: IA-PC boot architecture flags. */
#define FADT_IAPC_LEGACY_DEVICES (1u << 0)
#define FADT_IAPC_8042           (1u << 1)
#define FADT_IAPC_NO_VGA         (1u << 2)
#define FADT_IAPC_NO_MSI         (1u << 3)
/* C2/C3 latencies above 100 and 1000 us say the state is not supported. */
#define FADT_LAT_NONE 0x0FFFu

/* ACPI 6.5 5.2.3.2 Table 5.1: Generic Address Structure. */
#define GAS_LEN      12u
#define GAS_SYSTEM_IO 1u
#define GAS_ACCESS_BYTE  1u
#define GAS_ACCESS_WORD  2u
#define GAS_ACCESS_DWORD 3u

/* ACPI 6.5 5.2.10 Table 5.14: FACS, 64 bytes on a 64-byte boundary. */
#define FACS_LEN     64u
#define FACS_ALIGN   64u
#define FACS_VERSION 2u
#define FACS_VER_OFF 32

/* ACPI 6.5 5.2.12 Table 5.19 and 5.2.12.2-5.2.12.7: MADT and its entries. */
#define MADT_REV          5u
#define MADT_HDR_LEN      44u
#define MADT_PCAT_COMPAT  1u
#define MADT_LAPIC        0u
#define MADT_LAPIC_LEN    8u
#define MADT_LAPIC_ENABLED 1u
#define MADT_IOAPIC       1u
#define MADT_IOAPIC_LEN   12u
#define MADT_ISO          2u
#define MADT_ISO_LEN      10u
#define MADT_LAPIC_NMI    4u
#define MADT_LAPIC_NMI_LEN 6u
#define MADT_ALL_CPUS     0xFFu
/* Table 5.26: MPS INTI flags. Polarity 1:0 (01 active high), trigger 3:2 (11 level). */
#define INTI_CONFORMING   0x0000u
#define INTI_LEVEL_HIGH   0x000Du

/* MP 1.4 4.1 Table 4-1: floating pointer structure, 16 bytes. */
#define MPFP_LEN     16u
#define MP_SPEC_REV  4u
/* MP 1.4 4.2 Table 4-2: configuration table header. */
#define MPCT_HDR_LEN 44u
/* MP 1.4 4.3 Tables 4-3..4-14: entries. */
#define MP_PROC      0u
#define MP_PROC_LEN  20u
#define MP_PROC_EN   1u
#define MP_PROC_BP   2u
#define MP_BUS       1u
#define MP_IOAPIC    2u
#define MP_IOAPIC_EN 1u
#define MP_IOINT     3u
#define MP_LINT      4u
#define MP_ENTRY_LEN 8u
#define MP_INT_INT    0u
#define MP_INT_NMI    1u
#define MP_INT_EXTINT 3u
#define MP_ISA_BUS    0u
#define MP_ISA_IRQS   16u
#define MP_ALL_LAPICS 0xFFu

/* Where each table goes: offsets from the start of buf. */
struct layout {
	size_t off[ACPITAB_NR];
	uint32_t len[ACPITAB_NR];
	size_t end;
};

static const char *const tab_names[ACPITAB_NR] = {
	[ACPITAB_RSDP] = "RSDP", [ACPITAB_XSDT] = "XSDT", [ACPITAB_RSDT] = "RSDT",
	[ACPITAB_FADT] = "FACP", [ACPITAB_FACS] = "FACS", [ACPITAB_DSDT] = "DSDT",
	[ACPITAB_MADT] = "APIC", [ACPITAB_MPFP] = "MPFP", [ACPITAB_MPCT] = "MPCT",
};

const char *acpitab_name(enum acpitab_id id)
{
	return (unsigned int)id < ACPITAB_NR ? tab_names[id] : "?";
}

static void put8(uint8_t *p, size_t off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, (uint16_t)v);
	put16(p, off + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, (uint32_t)v);
	put32(p, off + 4, (uint32_t)(v >> 32));
}

/* The byte that makes p[0..len) sum to zero mod 256 (ACPI 6.5 5.2.6, MP 1.4 4.1). */
static uint8_t csum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ACPI 6.5 5.2.3.2: a System I/O register of bits bits at port. */
static void put_gas_io(uint8_t *p, size_t off, uint8_t bits, uint8_t access, uint16_t port)
{
	put8(p, off, GAS_SYSTEM_IO);
	put8(p, off + 1, bits);
	put8(p, off + 2, 0);
	put8(p, off + 3, access);
	put64(p, off + 4, port);
}

/* ACPI 6.5 5.2.6: header; the checksum is set by sdt_finish(). */
static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t, 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t, 32, 1);
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
	put8(t, 9, 0);
	put8(t, 9, csum(t, len));
}

/*
 * The DSDT's AML (ACPI 6.5 chapter 20), equivalent to this ASL:
 *
 *   Scope (\_SB) {
 *     Device (PCI0) {                         // PCI mechanism #1, 00:00.0
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, Zero)
 *       Name (_BBN, Zero)
 *       Name (_CRS, ResourceTemplate () {
 *         WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                        0, 0x00, 0xFF, 0, 0x100)
 *         IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                 0, 0x0000, 0x0CF7, 0, 0x0CF8)
 *         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                 0, 0x0D00, 0xFFFF, 0, 0xF300)
 *       })
 *     }
 *     Device (COM1) {
 *       Name (_HID, EisaId ("PNP0501"))
 *       Name (_UID, One)
 *       Name (_CRS, ResourceTemplate () {
 *         IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
 *         IRQNoFlags () {4}
 *       })
 *     }
 *     Device (PEVT) {                         // pvpanic, as QEMU's pvpanic-isa
 *       Name (_HID, "QEMU0001")
 *       Name (_CRS, ResourceTemplate () {
 *         IO (Decode16, 0x0505, 0x0505, 0x01, 0x01)
 *       })
 *       Name (_STA, 0x0F)                      // present, enabled, shown, working
 *     }
 *   }
 *   Name (\_S5, Package (4) { 5, 5, Zero, Zero })   // SLP_TYPa, SLP_TYPb (7.4.2)
 *
 * The PCI root has no memory window and no _PRT: no PCI device besides the
 * host bridge exists.
 */
#define AML_ZERO    0x00u /* 20.2.3 ZeroOp */
#define AML_ONE     0x01u /* OneOp */
#define AML_STRING  0x0Du /* 20.2.3 StringPrefix: ASCII characters, then NullChar */
#define AML_NAME    0x08u /* 20.2.5.1 NameOp */
#define AML_BYTE    0x0Au /* 20.2.3 BytePrefix */
#define AML_WORD    0x0Bu
#define AML_DWORD   0x0Cu
#define AML_SCOPE   0x10u /* 20.2.5.1 ScopeOp */
#define AML_BUFFER  0x11u /* 20.2.5.4 BufferOp */
#define AML_PACKAGE 0x12u /* PackageOp */
#define AML_EXT     0x5Bu /* ExtOpPrefix */
#define AML_DEVICE  0x82u /* 20.2.5.2 DeviceOp, after ExtOpPrefix */

/* 6.4: resource descriptors. */
#define RES_IRQ_NOFLAGS 0x22u /* 6.4.2.1, small item 0x04, 2 bytes */
#define RES_IO          0x47u /* 6.4.2.5, small item 0x08, 7 bytes */
#define RES_IO_DECODE16 0x01u
#define RES_END         0x79u /* 6.4.2.9, small item 0x0F, 1 byte */
#define RES_WORD        0x88u /* 6.4.3.5.3, large item 0x08 */
#define RES_WORD_LEN    13u
#define RES_TYPE_IO     1u
#define RES_TYPE_BUS    2u
#define RES_MIF_MAF     0x0Cu /* general flags: MinFixed, MaxFixed, producer, PosDecode */
#define RES_IO_ENTIRE   0x03u /* I/O type-specific flags: _RNG entire range */

struct aml {
	uint8_t *p; /* NULL: only count */
	size_t len;
};

static void aml_put(struct aml *a, const void *src, size_t n)
{
	if (a->p)
		memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

/*
 * 20.2.4: insert the PkgLength of what was written since start (it counts
 * itself): one byte below 0x40, else a lead byte with the number of bytes
 * that follow in bits 7:6 and the low nibble, then the rest, low first.
 */
static void aml_pkg_end(struct aml *a, size_t start)
{
	size_t body = a->len - start, n = 1, total;
	uint8_t enc[4];

	if (body + 1 >= 0x40)
		n = body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	total = body + n;
	enc[0] = n == 1 ? (uint8_t)total : (uint8_t)(((n - 1) << 6) | (total & 0xF));
	for (size_t i = 1; i < n; i++)
		enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	if (a->p) {
		memmove(a->p + start + n, a->p + start, body);
		memcpy(a->p + start, enc, n);
	}
	a->len += n;
}

/* 20.2.3: the shortest ComputationalData for v. */
static void aml_int(struct aml *a, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	if (v <= 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE);
		aml_put(a, b, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD);
		aml_put(a, b, 2);
	} else {
		aml_byte(a, AML_DWORD);
		aml_put(a, b, 4);
	}
}

/* 20.2.3: String, "QEMU0001" (a _HID that is not an EISA ID, 6.1.5). */
static void aml_string(struct aml *a, const char *str)
{
	aml_byte(a, AML_STRING);
	aml_put(a, str, strlen(str) + 1);
}

/* Name (seg, ...): NameOp and a 4-character NameSeg (20.2.2). */
static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, AML_NAME);
	aml_put(a, seg, 4);
}

/*
 * EisaId ("PNP0A03") (19.6.35): three letters of 5 bits each (A = 1), then
 * four hex digits, as a DWordConst whose bytes in memory are, in order,
 * the compressed vendor ID (big-endian) and the product ID's two bytes.
 */
static void aml_eisaid(struct aml *a, const char *id)
{
	uint8_t b[4];
	uint32_t v = 0;

	for (int i = 0; i < 3; i++)
		v = (v << 5) | ((uint32_t)(id[i] - 0x40) & 0x1F);
	for (int i = 3; i < 7; i++) {
		char c = id[i];

		v = (v << 4) | (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10);
	}
	b[0] = (uint8_t)(v >> 24); /* bits 30:16 vendor, 15:0 product */
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	aml_byte(a, AML_DWORD);
	aml_put(a, b, 4);
}

/* Name (name, Buffer () {res}) (20.2.5.4 DefBuffer). */
static void aml_name_buffer(struct aml *a, const char *seg, const uint8_t *res, size_t n)
{
	size_t start;

	aml_name(a, seg);
	aml_byte(a, AML_BUFFER);
	start = a->len;
	aml_int(a, (uint32_t)n);
	aml_put(a, res, n);
	aml_pkg_end(a, start);
}

/* 6.4.2.5: a fixed range of 16-bit decoded ports. */
static size_t res_io(uint8_t *r, size_t n, uint16_t base, uint8_t align, uint8_t len)
{
	r[n] = RES_IO;
	r[n + 1] = RES_IO_DECODE16;
	put16(r, n + 2, base);
	put16(r, n + 4, base);
	r[n + 6] = align;
	r[n + 7] = len;
	return n + 8;
}

/* 6.4.3.5.3: a Word Address Space descriptor the device produces. */
static size_t res_word(uint8_t *r, size_t n, uint8_t type, uint8_t tflags, uint16_t min,
		       uint16_t max)
{
	r[n] = RES_WORD;
	put16(r, n + 1, RES_WORD_LEN);
	r[n + 3] = type;
	r[n + 4] = RES_MIF_MAF;
	r[n + 5] = tflags;
	put16(r, n + 6, 0);                       /* granularity */
	put16(r, n + 8, min);
	put16(r, n + 10, max);
	put16(r, n + 12, 0);                      /* translation */
	put16(r, n + 14, (uint16_t)(max - min + 1)); /* length */
	return n + 16;
}

/* 6.4.2.9: End Tag, checksum 0 ("treated as if the checksum succeeded"). */
static size_t res_end(uint8_t *r, size_t n)
{
	r[n] = RES_END;
	r[n + 1] = 0;
	return n + 2;
}

static void aml_device_begin(struct aml *a, const char *seg, size_t *start)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	*start = a->len;
	aml_put(a, seg, 4);
}

static void dsdt_pci0(struct aml *a)
{
	uint8_t r[64];
	size_t n = 0, dev;

	aml_device_begin(a, "PCI0", &dev);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	n = res_word(r, n, RES_TYPE_BUS, 0, 0x00, 0xFF);
	n = res_io(r, n, 0x0CF8, 1, 8);
	n = res_word(r, n, RES_TYPE_IO, RES_IO_ENTIRE, 0x0000, 0x0CF7);
	n = res_word(r, n, RES_TYPE_IO, RES_IO_ENTIRE, 0x0D00, 0xFFFF);
	n = res_end(r, n);
	aml_name_buffer(a, "_CRS", r, n);
	aml_pkg_end(a, dev);
}

static void dsdt_com1(struct aml *a)
{
	uint8_t r[16];
	size_t n = 0, dev;

	aml_device_begin(a, "COM1", &dev);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_int(a, 1);
	n = res_io(r, n, PLAT_COM1_PORT, 0, 8);
	r[n] = RES_IRQ_NOFLAGS; /* 6.4.2.1: IRQ mask, bit n = IRQ n */
	put16(r, n + 1, 1u << PLAT_COM1_IRQ);
	n = res_end(r, n + 3);
	aml_name_buffer(a, "_CRS", r, n);
	aml_pkg_end(a, dev);
}

/* 6.3.7 _STA: bits 0-3, present, enabled, shown in the UI, functioning. */
#define STA_PRESENT_ALL 0x0Fu

/*
 * The pvpanic port (QEMU docs/specs/pvpanic.rst, "ACPI Interface"): Linux's
 * pvpanic-mmio driver binds the ACPI ID QEMU0001 and takes the port from
 * the _CRS as its only I/O resource.
 */
static void dsdt_pvpanic(struct aml *a)
{
	uint8_t r[16];
	size_t n = 0, dev;

	aml_device_begin(a, "PEVT", &dev);
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	n = res_io(r, n, PLAT_PVPANIC_PORT, 1, 1);
	n = res_end(r, n);
	aml_name_buffer(a, "_CRS", r, n);
	aml_name(a, "_STA");
	aml_int(a, STA_PRESENT_ALL);
	aml_pkg_end(a, dev);
}

static void dsdt_aml(struct aml *a)
{
	size_t start;

	aml_byte(a, AML_SCOPE);
	start = a->len;
	aml_put(a, "\\_SB_", 5);
	dsdt_pci0(a);
	dsdt_com1(a);
	dsdt_pvpanic(a);
	aml_pkg_end(a, start);
	/* 7.4.2: \_S5 is Package {SLP_TYPa, SLP_TYPb, reserved, reserved}. */
	aml_byte(a, AML_NAME);
	aml_put(a, "\\_S5_", 5);
	aml_byte(a, AML_PACKAGE);
	start = a->len;
	aml_byte(a, 4); /* NumElements */
	aml_int(a, PLAT_SLP_TYP_S5);
	aml_int(a, PLAT_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_pkg_end(a, start);
}

static uint32_t dsdt_aml_len(void)
{
	struct aml a = { NULL, 0 };

	dsdt_aml(&a);
	return (uint32_t)a.len;
}

/* ACPI 6.5 5.2.11.1: revision 2, integers are 64 bits. */
static void build_dsdt(uint8_t *t, uint32_t len)
{
	struct aml a = { t + SDT_HDR_LEN, 0 };

	sdt_header(t, "DSDT", len, 2);
	dsdt_aml(&a);
	sdt_finish(t, len);
}

static uint32_t madt_len(uint32_t nr_vcpus)
{
	return MADT_HDR_LEN + nr_vcpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
	       MADT_LAPIC_NMI_LEN;
}

/* MP 1.4 4.3: processors, one bus, one I/O APIC, ISA IRQs 0-15 but 2, LINT0 and LINT1. */
static uint32_t mp_nr_entries(uint32_t nr_vcpus)
{
	return nr_vcpus + 1 + 1 + (MP_ISA_IRQS - 1) + 2;
}

static uint32_t mpct_len(uint32_t nr_vcpus)
{
	return MPCT_HDR_LEN + nr_vcpus * MP_PROC_LEN +
	       (mp_nr_entries(nr_vcpus) - nr_vcpus) * MP_ENTRY_LEN;
}

static void place(struct layout *l, enum acpitab_id id, size_t align, uint32_t len)
{
	l->off[id] = align_up(l->end, align);
	l->len[id] = len;
	l->end = l->off[id] + len;
}

/* Offsets of every table; the MP floating pointer at or above ACPITAB_MP_MIN. */
static void lay_out(const struct acpitab_cfg *cfg, uint64_t gpa, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	place(l, ACPITAB_RSDP, 16, RSDP_LEN);
	place(l, ACPITAB_XSDT, 16, SDT_HDR_LEN + 2 * 8);
	place(l, ACPITAB_RSDT, 16, SDT_HDR_LEN + 2 * 4);
	place(l, ACPITAB_FADT, 16, FADT_LEN);
	place(l, ACPITAB_FACS, FACS_ALIGN, FACS_LEN);
	place(l, ACPITAB_DSDT, 16, SDT_HDR_LEN + dsdt_aml_len());
	place(l, ACPITAB_MADT, 16, madt_len(cfg->nr_vcpus));
	if (gpa + l->end < ACPITAB_MP_MIN)
		l->end = (size_t)(ACPITAB_MP_MIN - gpa);
	place(l, ACPITAB_MPFP, 16, MPFP_LEN);
	place(l, ACPITAB_MPCT, 16, mpct_len(cfg->nr_vcpus));
}

/* ACPI 6.5 5.2.5.3: revision 2, both checksums. */
static void build_rsdp(uint8_t *p, const uint64_t *g)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	put8(p, 15, 2);
	put32(p, 16, (uint32_t)g[ACPITAB_RSDT]);
	put32(p, 20, RSDP_LEN);
	put64(p, 24, g[ACPITAB_XSDT]);
	put8(p, 8, csum(p, RSDP_V1_LEN));
	put8(p, 32, csum(p, RSDP_LEN));
}

/* ACPI 6.5 5.2.8 (XSDT) and 5.2.7 (RSDT): the FADT and the MADT. */
static void build_roots(uint8_t *buf, const struct layout *l, const uint64_t *g)
{
	uint8_t *x = buf + l->off[ACPITAB_XSDT], *r = buf + l->off[ACPITAB_RSDT];

	sdt_header(x, "XSDT", l->len[ACPITAB_XSDT], 1);
	put64(x, SDT_HDR_LEN, g[ACPITAB_FADT]);
	put64(x, SDT_HDR_LEN + 8, g[ACPITAB_MADT]);
	sdt_finish(x, l->len[ACPITAB_XSDT]);
	sdt_header(r, "RSDT", l->len[ACPITAB_RSDT], 1);
	put32(r, SDT_HDR_LEN, (uint32_t)g[ACPITAB_FADT]);
	put32(r, SDT_HDR_LEN + 4, (uint32_t)g[ACPITAB_MADT]);
	sdt_finish(r, l->len[ACPITAB_RSDT]);
}

/*
 * ACPI 6.5 5.2.9. SMI_CMD 0 (no SMM), so there is no legacy-to-ACPI
 * handshake and an OS takes the hardware as already in ACPI mode: Linux's
 * acpi_hw_get_mode() returns ACPI mode when SMI_CMD is 0 without reading
 * SCI_EN, and never writes SCI_EN at boot. The FACS by its 32-bit pointer
 * only (X_FIRMWARE_CTRL zero), the DSDT by both. A fixed-feature power
 * button (PWR_BUTTON 0) and no sleep button (SLP_BUTTON 1); no RTC wake
 * status in PM1 (FIX_RTC 1: vpm has no RTC_STS); the century byte at CMOS
 * 0x32; no GPE blocks, no PM2, no C2/C3.
 */
static void build_fadt(uint8_t *f, const uint64_t *g)
{
	sdt_header(f, "FACP", FADT_LEN, FADT_REV);
	put32(f, FADT_FIRMWARE_CTRL, (uint32_t)g[ACPITAB_FACS]);
	put32(f, FADT_DSDT, (uint32_t)g[ACPITAB_DSDT]);
	put8(f, FADT_PM_PROFILE, 0);
	put16(f, FADT_SCI_INT, PLAT_SCI_IRQ);
	put32(f, FADT_SMI_CMD, 0);
	put32(f, FADT_PM1A_EVT, PLAT_PM1A_EVT);
	put32(f, FADT_PM1A_CNT, PLAT_PM1A_CNT);
	put32(f, FADT_PM_TMR, PLAT_PM_TMR);
	put8(f, FADT_PM1_EVT_LEN, 4);
	put8(f, FADT_PM1_CNT_LEN, 2);
	put8(f, FADT_PM_TMR_LEN, 4);
	put16(f, FADT_P_LVL2_LAT, FADT_LAT_NONE);
	put16(f, FADT_P_LVL3_LAT, FADT_LAT_NONE);
	put8(f, FADT_CENTURY, PLAT_RTC_CENTURY);
	put16(f, FADT_BOOT_ARCH, FADT_IAPC_LEGACY_DEVICES | FADT_IAPC_8042 | FADT_IAPC_NO_VGA |
					 FADT_IAPC_NO_MSI);
	put32(f, FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC |
				     FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP);
	/* RESET_REG: bit width 8, offset 0 (5.2.9); PIIX4 RCR at 0xCF9. */
	put_gas_io(f, FADT_RESET_REG, 8, GAS_ACCESS_BYTE, PLAT_RESET_PORT);
	put8(f, FADT_RESET_VAL, PLAT_RESET_VALUE);
	put8(f, FADT_MINOR_VER, FADT_MINOR);
	put64(f, FADT_X_DSDT, g[ACPITAB_DSDT]);
	/* PM1 status/enable and control are 16-bit registers (4.8.3.1, 4.8.3.2). */
	put_gas_io(f, FADT_X_PM1A_EVT, 32, GAS_ACCESS_WORD, PLAT_PM1A_EVT);
	put_gas_io(f, FADT_X_PM1A_CNT, 16, GAS_ACCESS_WORD, PLAT_PM1A_CNT);
	put_gas_io(f, FADT_X_PM_TMR, 32, GAS_ACCESS_DWORD, PLAT_PM_TMR);
	memcpy(f + FADT_HV_ID, "Tern", 4);
	sdt_finish(f, FADT_LEN);
}

/* ACPI 6.5 5.2.10: no S4BIOS, no 64-bit wake, global lock free; no checksum. */
static void build_facs(uint8_t *p)
{
	memcpy(p, "FACS", 4);
	put32(p, 4, FACS_LEN);
	put8(p, FACS_VER_OFF, FACS_VERSION);
}

static size_t madt_lapic(uint8_t *m, size_t off, uint8_t id)
{
	put8(m, off, MADT_LAPIC);
	put8(m, off + 1, MADT_LAPIC_LEN);
	put8(m, off + 2, id); /* ACPI Processor UID */
	put8(m, off + 3, id); /* APIC ID */
	put32(m, off + 4, MADT_LAPIC_ENABLED);
	return off + MADT_LAPIC_LEN;
}

static size_t madt_iso(uint8_t *m, size_t off, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(m, off, MADT_ISO);
	put8(m, off + 1, MADT_ISO_LEN);
	put8(m, off + 2, 0); /* bus: ISA */
	put8(m, off + 3, irq);
	put32(m, off + 4, gsi);
	put16(m, off + 8, flags);
	return off + MADT_ISO_LEN;
}

/*
 * ACPI 6.5 5.2.12: PCAT_COMPAT (8259s present), one local APIC per vCPU
 * (5.2.12.2), the I/O APIC (5.2.12.3), overrides IRQ0 -> GSI 2 and the SCI
 * level (5.2.12.5), and LINT1 as NMI on every processor (5.2.12.7).
 */
static void build_madt(uint8_t *m, uint32_t len, const struct acpitab_cfg *cfg)
{
	size_t off = MADT_HDR_LEN;

	sdt_header(m, "APIC", len, MADT_REV);
	put32(m, 36, PLAT_LAPIC_BASE);
	put32(m, 40, MADT_PCAT_COMPAT);
	for (uint32_t i = 0; i < cfg->nr_vcpus; i++)
		off = madt_lapic(m, off, (uint8_t)i);
	put8(m, off, MADT_IOAPIC);
	put8(m, off + 1, MADT_IOAPIC_LEN);
	put8(m, off + 2, cfg->ioapic_id);
	put32(m, off + 4, PLAT_IOAPIC_BASE);
	put32(m, off + 8, 0); /* GSI base */
	off += MADT_IOAPIC_LEN;
	off = madt_iso(m, off, 0, 2, INTI_CONFORMING);
	off = madt_iso(m, off, PLAT_SCI_IRQ, PLAT_SCI_IRQ, INTI_LEVEL_HIGH);
	put8(m, off, MADT_LAPIC_NMI);
	put8(m, off + 1, MADT_LAPIC_NMI_LEN);
	put8(m, off + 2, MADT_ALL_CPUS);
	put16(m, off + 3, INTI_CONFORMING);
	put8(m, off + 5, 1); /* LINT1 */
	sdt_finish(m, len);
}

/* MP 1.4 4.1 Table 4-1. Feature bytes 0: a configuration table, no IMCR (virtual wire). */
static void build_mpfp(uint8_t *p, uint64_t mpct_gpa)
{
	memcpy(p, "_MP_", 4);
	put32(p, 4, (uint32_t)mpct_gpa);
	put8(p, 8, MPFP_LEN / 16);
	put8(p, 9, MP_SPEC_REV);
	put8(p, 10, csum(p, MPFP_LEN));
}

/* MP 1.4 Tables 4-12 and 4-14: I/O and local interrupt entries share a layout. */
static size_t mp_int(uint8_t *c, size_t off, uint8_t kind, uint8_t type, uint16_t flags,
		     uint8_t irq, uint8_t dst, uint8_t pin)
{
	put8(c, off, kind);
	put8(c, off + 1, type);
	put16(c, off + 2, flags);
	put8(c, off + 4, MP_ISA_BUS);
	put8(c, off + 5, irq);
	put8(c, off + 6, dst);
	put8(c, off + 7, pin);
	return off + MP_ENTRY_LEN;
}

/* MP 1.4 4.3.1 Table 4-4: processor entries, the BSP (APIC ID 0) flagged. */
static size_t mp_procs(uint8_t *c, size_t off, const struct acpitab_cfg *cfg)
{
	for (uint32_t i = 0; i < cfg->nr_vcpus; i++, off += MP_PROC_LEN) {
		put8(c, off, MP_PROC);
		put8(c, off + 1, (uint8_t)i);
		put8(c, off + 2, PLAT_LAPIC_VER);
		put8(c, off + 3, MP_PROC_EN | (i == 0 ? MP_PROC_BP : 0));
		put32(c, off + 4, cfg->cpu_signature);
		put32(c, off + 8, cfg->cpu_features);
	}
	return off;
}

/*
 * ISA IRQ n on pin n, but IRQ 0 on pin 2 and no IRQ 2 (pin 2 is taken), as
 * SeaBIOS does; the SCI's line is level (MP 1.4 Table 4-13 flags).
 */
static size_t mp_ioints(uint8_t *c, size_t off, uint8_t ioapic_id)
{
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++) {
		if (irq == 2)
			continue;
		off = mp_int(c, off, MP_IOINT, MP_INT_INT,
			     irq == PLAT_SCI_IRQ ? INTI_LEVEL_HIGH : INTI_CONFORMING, irq,
			     ioapic_id, irq == 0 ? 2 : irq);
	}
	return off;
}

/*
 * MP 1.4 4.2 Table 4-2 and 4.3 (entries sorted by type). The 8259A's INT
 * reaches vCPU 0's LINT0 only (ExtINT), LINT1 is NMI everywhere.
 */
static void build_mpct(uint8_t *c, uint32_t len, const struct acpitab_cfg *cfg)
{
	size_t off = MPCT_HDR_LEN;

	memcpy(c, "PCMP", 4);
	put16(c, 4, (uint16_t)len);
	put8(c, 6, MP_SPEC_REV);
	memcpy(c + 8, "TERN    ", 8);
	memcpy(c + 16, "TERNVM      ", 12);
	put16(c, 34, (uint16_t)mp_nr_entries(cfg->nr_vcpus));
	put32(c, 36, PLAT_LAPIC_BASE);
	off = mp_procs(c, off, cfg);
	put8(c, off, MP_BUS); /* Table 4-8 */
	put8(c, off + 1, MP_ISA_BUS);
	memcpy(c + off + 2, "ISA   ", 6);
	off += MP_ENTRY_LEN;
	put8(c, off, MP_IOAPIC); /* Table 4-10 */
	put8(c, off + 1, cfg->ioapic_id);
	put8(c, off + 2, PLAT_IOAPIC_VER);
	put8(c, off + 3, MP_IOAPIC_EN);
	put32(c, off + 4, PLAT_IOAPIC_BASE);
	off += MP_ENTRY_LEN;
	off = mp_ioints(c, off, cfg->ioapic_id);
	off = mp_int(c, off, MP_LINT, MP_INT_EXTINT, INTI_CONFORMING, 0, 0, 0);
	mp_int(c, off, MP_LINT, MP_INT_NMI, INTI_CONFORMING, 0, MP_ALL_LAPICS, 1);
	put8(c, 7, csum(c, len));
}

static int check_cfg(const struct acpitab_cfg *cfg, uint64_t gpa, const char **why)
{
	if (cfg->nr_vcpus == 0 || cfg->nr_vcpus > TERN_MAX_VCPUS) {
		*why = "acpitab: nr_vcpus must be 1..TERN_MAX_VCPUS";
		return -EINVAL;
	}
	/* 82093AA IOAPICID bits 27:24; MP 1.4 4.3.3: APIC IDs are unique. */
	if (cfg->ioapic_id > 15 || cfg->ioapic_id < cfg->nr_vcpus) {
		*why = "acpitab: ioapic_id must be 0..15 and not a vCPU's APIC ID (0..nr_vcpus-1)";
		return -EINVAL;
	}
	if (gpa & 15) {
		*why = "acpitab: gpa must be 16-byte aligned (the RSDP scan, ACPI 6.5 5.2.5.1)";
		return -EINVAL;
	}
	if (gpa < ACPITAB_GPA || gpa >= ACPITAB_AREA_END) {
		*why = "acpitab: gpa must be in 0xE0000-0xFFFFF (the RSDP scan range)";
		return -EINVAL;
	}
	return 0;
}

int acpitab_build(const struct acpitab_cfg *cfg, uint8_t *buf, size_t size, uint64_t gpa,
		  struct acpitab_out *out, const char **why)
{
	static const char *dummy;
	struct layout l;
	uint64_t g[ACPITAB_NR];
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!cfg || !buf || !out) {
		*why = "acpitab: no cfg, buffer or out";
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	rc = check_cfg(cfg, gpa, why);
	if (rc)
		return rc;
	lay_out(cfg, gpa, &l);
	if (gpa + l.end > ACPITAB_AREA_END) {
		*why = "acpitab: the MP table would end above 0xFFFFF (MP 1.4 section 4)";
		return -EINVAL;
	}
	out->used = l.end;
	if (size < l.end) {
		*why = "acpitab: buffer too small for the ACPI and MP tables (out->used is needed)";
		return -ENOSPC;
	}
	memset(buf, 0, size);
	for (int i = 0; i < ACPITAB_NR; i++) {
		g[i] = gpa + l.off[i];
		out->t[i].gpa = g[i];
		out->t[i].len = l.len[i];
	}
	build_rsdp(buf + l.off[ACPITAB_RSDP], g);
	build_roots(buf, &l, g);
	build_fadt(buf + l.off[ACPITAB_FADT], g);
	build_facs(buf + l.off[ACPITAB_FACS]);
	build_dsdt(buf + l.off[ACPITAB_DSDT], l.len[ACPITAB_DSDT]);
	build_madt(buf + l.off[ACPITAB_MADT], l.len[ACPITAB_MADT], cfg);
	build_mpfp(buf + l.off[ACPITAB_MPFP], g[ACPITAB_MPCT]);
	build_mpct(buf + l.off[ACPITAB_MPCT], l.len[ACPITAB_MPCT], cfg);
	out->rsdp_gpa = g[ACPITAB_RSDP];
	out->mpfp_gpa = g[ACPITAB_MPFP];
	return 0;
}
