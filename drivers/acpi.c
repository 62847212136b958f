/* SPDX-License-Identifier: MIT */
/* ACPI table parsing (RSDP, XSDT/RSDT, MADT, FADT, DSDT \_S5, SPCR) within the bytes granted. */
#include "drivers/acpi.h"

#include <stdarg.h>

#include "kernel/fmt.h"
#include "kernel/string.h"

#define ACPI_BIT(n) (1u << (n))

/* Root System Description Pointer (ACPI 6.5 section 5.2.5.3). */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length; /* this and below: revision 2 and later */
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP size");
#define ACPI_RSDP_V1_LENGTH offsetof(struct acpi_rsdp, length)
_Static_assert(ACPI_RSDP_V1_LENGTH == 20, "ACPI 1.0 RSDP size");

/* System Description Table Header (section 5.2.6). */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header size");
#define ACPI_HEADER_LEN sizeof(struct acpi_sdt_header)

/* Generic Address Structure (section 5.2.3.2). */
struct acpi_generic_address {
	uint8_t address_space_id, register_bit_width, register_bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_generic_address) == 12, "GAS size");

/* Fixed ACPI Description Table (section 5.2.9, table 5.9). */
struct acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	/* ACPI 2.0 and later: every field below may be missing */
	struct acpi_generic_address reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t fadt_minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_generic_address x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_generic_address x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_generic_address sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_identity;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT size");
_Static_assert(offsetof(struct acpi_fadt, pm1a_cnt_blk) == 64, "FADT PM1a_CNT_BLK");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT_BLK");

/* Fixed Feature Flags (table 5.10). */
#define ACPI_FADT_TMR_VAL_EXT     ACPI_BIT(8)
#define ACPI_FADT_RESET_REG_SUP   ACPI_BIT(10)
#define ACPI_FADT_HW_REDUCED_ACPI ACPI_BIT(20)

/* An ACPI 1.0 FADT ends with Flags; anything shorter lacks fields we need. */
#define ACPI_FADT_MIN_LENGTH offsetof(struct acpi_fadt, reset_reg)
/* Whether a FADT of len bytes holds all of field. */
#define ACPI_FADT_HAS(len, field) \
	((len) >= offsetof(struct acpi_fadt, field) + sizeof(((struct acpi_fadt *)0)->field))

/* Multiple APIC Description Table (section 5.2.12) and the entries we use. */
struct acpi_madt {
	struct acpi_sdt_header header;
	uint32_t local_interrupt_controller_address;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT size");

#define ACPI_MADT_PCAT_COMPAT ACPI_BIT(0)

enum acpi_madt_type {
	ACPI_MADT_PROCESSOR_LOCAL_APIC = 0,
	ACPI_MADT_IO_APIC = 1,
	ACPI_MADT_INTERRUPT_SOURCE_OVERRIDE = 2,
	ACPI_MADT_LOCAL_APIC_ADDRESS_OVERRIDE = 5,
	ACPI_MADT_PROCESSOR_LOCAL_X2APIC = 9,
};

/* Local APIC Flags (table 5.23), shared by the x2APIC structure. */
#define ACPI_MADT_ENABLED        ACPI_BIT(0)
#define ACPI_MADT_ONLINE_CAPABLE ACPI_BIT(1)

/* Processor Local APIC, I/O APIC, Local APIC Address Override, Local x2APIC (5.2.12.2-12). */
struct acpi_madt_local_apic {
	uint8_t type, length, acpi_processor_uid, apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_apic) == 8, "Processor Local APIC size");

struct acpi_madt_io_apic {
	uint8_t type, length, io_apic_id, reserved;
	uint32_t io_apic_address, global_system_interrupt_base;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_io_apic) == 12, "I/O APIC size");

struct acpi_madt_interrupt_override {
	uint8_t type, length, bus, source;
	uint32_t global_system_interrupt;
	uint16_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_interrupt_override) == 10, "Interrupt Source Override size");

struct acpi_madt_local_apic_override {
	uint8_t type, length;
	uint16_t reserved;
	uint64_t local_apic_address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_apic_override) == 12, "LAPIC override size");

struct acpi_madt_local_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id, flags, acpi_processor_uid;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_local_x2apic) == 16, "Processor Local x2APIC size");

/*
 * Serial Port Console Redirection Table (Microsoft SPCR spec), up to the
 * last field Tern reads; parity, flow control and the PCI location follow.
 */
struct acpi_spcr {
	struct acpi_sdt_header header;
	uint8_t interface_type;
	uint8_t reserved0[3];
	struct acpi_generic_address base_address;
	uint8_t interrupt_type, irq;
	uint32_t global_system_interrupt;
	uint8_t configured_baud_rate;
} __attribute__((packed));
_Static_assert(offsetof(struct acpi_spcr, configured_baud_rate) == 58, "SPCR Baud Rate (52 is IRQ type)");
_Static_assert(sizeof(struct acpi_spcr) == 59, "SPCR size up to Configured Baud Rate");
_Static_assert(offsetof(struct acpi_spcr, base_address) == 40, "SPCR Base Address");

/* AML encodings used to find \_S5 (section 20.2). */
#define AML_NAME_OP     0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP  0x12
#define AML_ROOT_CHAR   0x5c
/* SLP_TYPx is a 3-bit field (PM1_CNT bits 12:10), so larger bare bytes are other opcodes. */
#define ACPI_SLP_TYP_MAX 7

static uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	return acpi_sum(p, len) == 0;
}

static uint32_t acpi_table_length(const void *table)
{
	struct acpi_sdt_header h;

	memcpy(&h, table, sizeof(h));
	return h.length;
}

int acpi_table_check(const void *table, size_t avail, const char *sig)
{
	uint32_t len;

	if (!table || avail < ACPI_HEADER_LEN)
		return ACPI_ERR_TRUNCATED;
	if (sig && memcmp(table, sig, 4) != 0)
		return ACPI_ERR_SIGNATURE;
	len = acpi_table_length(table);
	if (len < ACPI_HEADER_LEN || len > avail)
		return ACPI_ERR_TRUNCATED;
	if (!acpi_checksum_ok(table, len))
		return ACPI_ERR_CHECKSUM;
	return 0;
}

/* APIC IDs that name no processor: placeholders some firmware lists (5.2.12.2, 5.2.12.12). */
#define ACPI_MADT_LAPIC_ID_INVALID  0xffu
#define ACPI_MADT_X2APIC_ID_INVALID 0xffffffffu

static struct acpi_cpu *acpi_find_cpu(struct acpi_info *out, uint32_t apic_id)
{
	for (uint32_t i = 0; i < out->nr_cpus; i++)
		if (out->cpus[i].apic_id == apic_id)
			return &out->cpus[i];
	return NULL;
}

/* Where a new entry goes once cpus[] is full: over a disabled one, if it is enabled itself. */
static struct acpi_cpu *acpi_cpu_slot(struct acpi_info *out, bool enabled)
{
	if (out->nr_cpus < ACPI_MAX_CPUS)
		return &out->cpus[out->nr_cpus++];
	out->nr_cpus_dropped++; /* this entry, or the disabled one it displaces */
	for (uint32_t i = out->nr_cpus; enabled && i-- > 0;)
		if (!out->cpus[i].enabled)
			return &out->cpus[i];
	return NULL;
}

static void acpi_add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
			 bool x2apic)
{
	bool enabled = flags & ACPI_MADT_ENABLED;
	struct acpi_cpu *cpu;

	if (apic_id == (x2apic ? ACPI_MADT_X2APIC_ID_INVALID : ACPI_MADT_LAPIC_ID_INVALID))
		return;
	/* Firmware may list a CPU in both structures (5.2.12.12): the first one counts. */
	if (acpi_find_cpu(out, apic_id))
		return;
	/*
	 * Past ACPI_MAX_CPUS entries (servers list every hot-pluggable socket),
	 * enabled processors displace disabled ones; what is left is counted.
	 */
	cpu = acpi_cpu_slot(out, enabled);
	if (!cpu)
		return;
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->enabled = enabled;
	cpu->online_capable = flags & ACPI_MADT_ONLINE_CAPABLE;
	cpu->x2apic_entry = x2apic;
}

/* The length each entry type we read needs; other types are skipped whatever their length. */
static const uint8_t acpi_madt_min_length[] = {
	[ACPI_MADT_PROCESSOR_LOCAL_APIC] = sizeof(struct acpi_madt_local_apic),
	[ACPI_MADT_IO_APIC] = sizeof(struct acpi_madt_io_apic),
	[ACPI_MADT_INTERRUPT_SOURCE_OVERRIDE] = sizeof(struct acpi_madt_interrupt_override),
	[ACPI_MADT_LOCAL_APIC_ADDRESS_OVERRIDE] = sizeof(struct acpi_madt_local_apic_override),
	[ACPI_MADT_PROCESSOR_LOCAL_X2APIC] = sizeof(struct acpi_madt_local_x2apic),
};

/* Returns false when the entry is too short for its type. */
static bool acpi_madt_entry(const uint8_t *p, uint8_t len, struct acpi_info *out)
{
	union {
		struct acpi_madt_local_apic lapic;
		struct acpi_madt_io_apic ioapic;
		struct acpi_madt_interrupt_override iso;
		struct acpi_madt_local_apic_override ovr;
		struct acpi_madt_local_x2apic x2apic;
	} e;

	if (p[0] >= sizeof(acpi_madt_min_length) || !acpi_madt_min_length[p[0]])
		return true;
	if (len < acpi_madt_min_length[p[0]])
		return false;
	memcpy(&e, p, acpi_madt_min_length[p[0]]);
	switch (p[0]) {
	case ACPI_MADT_PROCESSOR_LOCAL_APIC:
		acpi_add_cpu(out, e.lapic.apic_id, e.lapic.acpi_processor_uid, e.lapic.flags,
			     false);
		break;
	case ACPI_MADT_PROCESSOR_LOCAL_X2APIC:
		acpi_add_cpu(out, e.x2apic.x2apic_id, e.x2apic.acpi_processor_uid, e.x2apic.flags,
			     true);
		break;
	case ACPI_MADT_LOCAL_APIC_ADDRESS_OVERRIDE:
		out->lapic_address = e.ovr.local_apic_address;
		break;
	case ACPI_MADT_IO_APIC:
		if (out->nr_ioapics < ACPI_MAX_IOAPICS)
			out->ioapics[out->nr_ioapics++] = (struct acpi_ioapic){
				.id = e.ioapic.io_apic_id,
				.address = e.ioapic.io_apic_address,
				.gsi_base = e.ioapic.global_system_interrupt_base,
			};
		break;
	case ACPI_MADT_INTERRUPT_SOURCE_OVERRIDE:
		/* Bus 0 is ISA, the only one the table defines. */
		if (e.iso.bus == 0 && out->nr_irq_overrides < ACPI_MAX_IRQ_OVERRIDES)
			out->irq_overrides[out->nr_irq_overrides++] = (struct acpi_irq_override){
				.source = e.iso.source,
				.gsi = e.iso.global_system_interrupt,
				.flags = e.iso.flags,
			};
		break;
	}
	return true;
}

void acpi_isa_irq(const struct acpi_info *acpi, uint8_t irq, uint32_t *gsi, bool *active_low,
		  bool *level)
{
	*gsi = irq;
	*active_low = *level = false;
	for (uint32_t i = 0; acpi && i < acpi->nr_irq_overrides; i++) {
		const struct acpi_irq_override *o = &acpi->irq_overrides[i];

		if (o->source != irq)
			continue;
		*gsi = o->gsi;
		*active_low = (o->flags & ACPI_INTI_POLARITY_MASK) == ACPI_INTI_ACTIVE_LOW;
		*level = (o->flags & ACPI_INTI_TRIGGER_MASK) == ACPI_INTI_TRIGGER_LEVEL;
		return;
	}
}

int acpi_parse_madt(const void *table, size_t avail, struct acpi_info *out)
{
	const uint8_t *p = table;
	struct acpi_madt madt;
	uint32_t len, off;
	uint8_t entry_len;
	int rc;

	rc = acpi_table_check(table, avail, "APIC");
	if (rc)
		return rc;
	len = acpi_table_length(table);
	if (len < sizeof(madt))
		return ACPI_ERR_TRUNCATED;
	memcpy(&madt, p, sizeof(madt));
	out->has_madt = true;
	out->lapic_address = madt.local_interrupt_controller_address;
	out->pcat_compat = madt.flags & ACPI_MADT_PCAT_COMPAT;
	out->nr_cpus = 0;
	out->nr_cpus_dropped = 0;
	out->nr_ioapics = 0;

	/* Entries are {type, length, ...}; a bad length ends the walk, keeping what came before. */
	for (off = sizeof(madt); off < len; off += entry_len) {
		if (len - off < 2)
			return ACPI_ERR_TRUNCATED;
		entry_len = p[off + 1];
		if (entry_len < 2 || entry_len > len - off)
			return ACPI_ERR_TRUNCATED;
		if (!acpi_madt_entry(p + off, entry_len, out))
			return ACPI_ERR_TRUNCATED;
	}
	return 0;
}

static struct acpi_gas acpi_gas_from(struct acpi_generic_address g)
{
	return (struct acpi_gas){ .space_id = g.address_space_id, .bit_width = g.register_bit_width,
				  .bit_offset = g.register_bit_offset,
				  .access_size = g.access_size, .address = g.address };
}

/*
 * A FADT register: the X_ GAS when present and non-zero, else the ACPI 1.0
 * I/O port block of blk_len bytes (access size 0: any width).
 */
static struct acpi_gas acpi_fadt_reg(bool has_x, struct acpi_generic_address x, uint32_t blk,
				     uint8_t blk_len)
{
	struct acpi_gas gas = { 0 };

	if (has_x && x.address)
		return acpi_gas_from(x);
	if (!blk)
		return gas;
	gas.space_id = ACPI_GAS_IO;
	gas.bit_width = (uint8_t)(blk_len * 8);
	gas.address = blk;
	return gas;
}

int acpi_parse_fadt(const void *table, size_t avail, struct acpi_info *out)
{
	struct acpi_fadt f = { 0 };
	uint32_t len;
	int rc;

	rc = acpi_table_check(table, avail, "FACP");
	if (rc)
		return rc;
	len = acpi_table_length(table);
	if (len < ACPI_FADT_MIN_LENGTH)
		return ACPI_ERR_TRUNCATED;
	/* Old revisions are shorter: fields past len stay zero, and ACPI_FADT_HAS skips them. */
	memcpy(&f, table, len < sizeof(f) ? len : sizeof(f));

	out->has_fadt = true;
	out->hw_reduced = f.flags & ACPI_FADT_HW_REDUCED_ACPI;
	out->pm_tmr_32bit = f.flags & ACPI_FADT_TMR_VAL_EXT;
	out->dsdt = ACPI_FADT_HAS(len, x_dsdt) && f.x_dsdt ? f.x_dsdt : f.dsdt;
	out->pm1a_cnt = acpi_fadt_reg(ACPI_FADT_HAS(len, x_pm1a_cnt_blk), f.x_pm1a_cnt_blk,
				      f.pm1a_cnt_blk, f.pm1_cnt_len);
	out->pm1b_cnt = acpi_fadt_reg(ACPI_FADT_HAS(len, x_pm1b_cnt_blk), f.x_pm1b_cnt_blk,
				      f.pm1b_cnt_blk, f.pm1_cnt_len);
	out->pm_tmr = acpi_fadt_reg(ACPI_FADT_HAS(len, x_pm_tmr_blk), f.x_pm_tmr_blk,
				    f.pm_tmr_blk, f.pm_tmr_len);

	/* RESET_REG_SUP means nothing in a table too short to hold the register. */
	out->reset_supported = (f.flags & ACPI_FADT_RESET_REG_SUP) &&
			       ACPI_FADT_HAS(len, reset_value);
	out->reset_reg = acpi_gas_from(f.reset_reg);
	out->reset_value = f.reset_value;
	return 0;
}

/* SPCR Configured Baud Rate codes; 0 is "as is", and reserved codes are treated the same. */
static const uint32_t acpi_spcr_bauds[8] = { [3] = 9600, [4] = 19200, [6] = 57600, [7] = 115200 };

int acpi_parse_spcr(const void *table, size_t avail, struct acpi_info *out)
{
	struct acpi_spcr s;
	uint32_t len;
	int rc;

	rc = acpi_table_check(table, avail, "SPCR");
	if (rc)
		return rc;
	len = acpi_table_length(table);
	if (len < sizeof(s))
		return ACPI_ERR_TRUNCATED;
	memcpy(&s, table, sizeof(s));
	out->has_spcr = true;
	out->spcr_interface = s.interface_type;
	out->spcr_base = acpi_gas_from(s.base_address);
	out->spcr_baud = s.configured_baud_rate < 8 ? acpi_spcr_bauds[s.configured_baud_rate] : 0;
	return 0;
}

/* Decodes a PkgLength (section 20.2.4); returns the bytes it takes, 0 if they run past avail. */
static size_t aml_pkg_length(const uint8_t *p, size_t avail, uint32_t *value)
{
	size_t n, i;

	if (avail < 1)
		return 0;
	n = 1 + (p[0] >> 6);
	if (avail < n)
		return 0;
	if (n == 1) {
		*value = p[0] & 0x3f;
		return 1;
	}
	/* Multi-byte form: bits 3:0 of the lead byte are the low nibble. */
	*value = p[0] & 0x0f;
	for (i = 1; i < n; i++)
		*value |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

/* One SLP_TYPx element: BytePrefix + byte, or ZeroOp/OneOp/a bare small constant. */
static size_t aml_slp_typ(const uint8_t *p, size_t avail, uint8_t *value)
{
	if (avail >= 2 && p[0] == AML_BYTE_PREFIX) {
		*value = p[1];
		return 2;
	}
	if (avail >= 1 && p[0] <= ACPI_SLP_TYP_MAX) {
		*value = p[0]; /* ZeroOp and OneOp encode their own value */
		return 1;
	}
	return 0;
}

/* Parses "Package (n) { SLP_TYPa, SLP_TYPb, ... }" at p; false if it is not one. */
static bool aml_parse_s5_package(const uint8_t *p, size_t avail, uint8_t *typa, uint8_t *typb)
{
	uint32_t pkg_len;
	size_t pos, n;

	if (avail < 1 || p[0] != AML_PACKAGE_OP)
		return false;
	n = aml_pkg_length(p + 1, avail - 1, &pkg_len);
	/* PkgLength counts itself and the package body, all of which must be here. */
	if (!n || pkg_len < n || pkg_len > avail - 1)
		return false;
	avail = 1 + pkg_len;
	pos = 1 + n;
	if (pos >= avail || p[pos] < 2) /* NumElements */
		return false;
	pos++;
	n = aml_slp_typ(p + pos, avail - pos, typa);
	if (!n)
		return false;
	pos += n;
	return aml_slp_typ(p + pos, avail - pos, typb) != 0;
}

/* Whether "_S5_" at aml[i] is the name in a NameOp, optionally as \_S5_. */
static bool aml_is_name_decl(const uint8_t *aml, size_t i)
{
	if (i >= 1 && aml[i - 1] == AML_NAME_OP)
		return true;
	return i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP;
}

int acpi_parse_dsdt_s5(const void *table, size_t avail, struct acpi_info *out)
{
	const uint8_t *aml;
	size_t aml_len, i;
	uint8_t typa, typb;
	int rc;

	rc = acpi_table_check(table, avail, "DSDT");
	if (rc)
		return rc;
	aml = (const uint8_t *)table + ACPI_HEADER_LEN;
	aml_len = acpi_table_length(table) - ACPI_HEADER_LEN;
	out->has_s5 = false;

	/*
	 * Not an AML interpreter: the byte scan small kernels use, enough for the
	 * Name (_S5, Package () {...}) firmware puts in the root scope.
	 */
	for (i = 0; i + 4 <= aml_len; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0 || !aml_is_name_decl(aml, i))
			continue;
		if (!aml_parse_s5_package(aml + i + 4, aml_len - i - 4, &typa, &typb))
			continue;
		out->has_s5 = true;
		out->s5_slp_typa = typa;
		out->s5_slp_typb = typb;
		break;
	}
	return 0;
}

static const char *const acpi_errors[] = {
	"ok", "no RSDP", "wrong signature", "bad checksum", "truncated table",
};

const char *acpi_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(acpi_errors) / sizeof(acpi_errors[0])))
		return "unknown ACPI error";
	return acpi_errors[-err];
}

/* --- walking the tables through env->map ------------------------------------ */

static void acpi_diag(const struct acpi_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void acpi_diag(const struct acpi_env *env, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (!env->diag)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	env->diag(env->ctx, msg);
}

/* One sentence for a table that failed its check or its parser with rc. */
static void acpi_diag_table(const struct acpi_env *env, const char *name, uint64_t phys,
			    const void *table, uint32_t len, int rc)
{
	unsigned long long addr = phys;

	if (rc == ACPI_ERR_CHECKSUM)
		acpi_diag(env, "acpi: %s at 0x%llx: bad checksum (sum 0x%02x), table skipped", name,
			  addr, acpi_sum(table, len));
	else
		acpi_diag(env, "acpi: %s at 0x%llx: %s (length %u), table skipped", name, addr,
			  acpi_strerror(rc), len);
}

/*
 * Maps the table at phys: its header first (unless the caller has it) to
 * learn the length, then that many bytes. Pointers from map must stay valid
 * across later calls, as the kernel's direct map and the tests' fake memory do.
 */
static const void *acpi_map_table(const struct acpi_env *env, uint64_t phys, const char *name,
				  const void *hdr, uint32_t *len)
{
	unsigned long long addr = phys;
	const void *p = hdr ? hdr : env->map(env->ctx, phys, ACPI_HEADER_LEN);

	if (!p) {
		acpi_diag(env, "acpi: %s at 0x%llx: header is not readable, table skipped", name,
			  addr);
		return NULL;
	}
	*len = acpi_table_length(p);
	if (*len < ACPI_HEADER_LEN) {
		acpi_diag(env, "acpi: %s at 0x%llx: length %u is shorter than a header, table skipped",
			  name, addr, *len);
		return NULL;
	}
	p = env->map(env->ctx, phys, *len);
	if (!p)
		acpi_diag(env, "acpi: %s at 0x%llx: its %u bytes are not readable, table skipped",
			  name, addr, *len);
	return p;
}

/* The tables Tern reads, by the signature in their header. */
struct acpi_table_desc {
	const char *sig;
	const char *name;
	int (*parse)(const void *table, size_t avail, struct acpi_info *out);
};

static const struct acpi_table_desc acpi_tables[] = {
	{ "APIC", "MADT", acpi_parse_madt },
	{ "FACP", "FADT", acpi_parse_fadt },
	{ "SPCR", "SPCR", acpi_parse_spcr },
	{ "DSDT", "DSDT", acpi_parse_dsdt_s5 }, /* reached from the FADT, not the root table */
};
#define ACPI_ROOT_TABLES 3

static void acpi_parse_table(const struct acpi_env *env, uint64_t phys, const void *hdr,
			     const struct acpi_table_desc *d, struct acpi_info *out)
{
	const void *table;
	uint32_t len;
	int rc;

	table = acpi_map_table(env, phys, d->name, hdr, &len);
	rc = table ? d->parse(table, len, out) : 0;
	if (rc == ACPI_ERR_TRUNCATED && d->parse == acpi_parse_madt && out->has_madt)
		acpi_diag(env, "acpi: MADT at 0x%llx: entry list truncated, kept %u CPUs, %u I/O APICs",
			  (unsigned long long)phys, out->nr_cpus, out->nr_ioapics);
	else if (rc)
		acpi_diag_table(env, d->name, phys, table, len, rc);
}

/* Parses the table a root table entry points to, if it is one Tern reads. */
static void acpi_parse_entry(const struct acpi_env *env, uint64_t phys, const char *root,
			     struct acpi_info *out)
{
	const void *hdr;
	size_t i;

	if (!phys)
		return;
	hdr = env->map(env->ctx, phys, ACPI_HEADER_LEN);
	if (!hdr) {
		acpi_diag(env, "acpi: %s entry 0x%llx is not readable, table skipped", root,
			  (unsigned long long)phys);
		return;
	}
	for (i = 0; i < ACPI_ROOT_TABLES; i++)
		if (memcmp(hdr, acpi_tables[i].sig, 4) == 0)
			acpi_parse_table(env, phys, hdr, &acpi_tables[i], out);
}

/* Checks the XSDT or RSDT and parses every table it lists. */
static int acpi_walk_root(const struct acpi_env *env, uint64_t phys, const char *sig,
			  size_t entry_size, struct acpi_info *out)
{
	const uint8_t *t = NULL;
	uint64_t entry;
	uint32_t len, off;
	int rc;

	if (phys)
		t = acpi_map_table(env, phys, sig, NULL, &len);
	else
		acpi_diag(env, "acpi: the RSDP gives no %s address", sig);
	if (!t)
		return ACPI_ERR_TRUNCATED;
	rc = acpi_table_check(t, len, sig);
	if (rc) {
		acpi_diag_table(env, sig, phys, t, len, rc);
		return rc;
	}
	/* XSDT entries start at offset 36, so they are not 8-byte aligned: copy them out. */
	for (off = ACPI_HEADER_LEN; off + entry_size <= len; off += entry_size) {
		entry = 0;
		memcpy(&entry, t + off, entry_size);
		acpi_parse_entry(env, entry, sig, out);
	}
	return 0;
}

/* Validates the RSDP: the 20-byte checksum, and for revision 2+ the extended one. */
static int acpi_read_rsdp(const struct acpi_env *env, uint64_t phys, struct acpi_rsdp *rsdp)
{
	unsigned long long addr = phys;
	const void *p;

	memset(rsdp, 0, sizeof(*rsdp));
	p = phys ? env->map(env->ctx, phys, ACPI_RSDP_V1_LENGTH) : NULL;
	if (!p) {
		acpi_diag(env, "acpi: RSDP at 0x%llx is not readable", addr);
		return ACPI_ERR_NO_RSDP;
	}
	memcpy(rsdp, p, ACPI_RSDP_V1_LENGTH);
	if (memcmp(rsdp->signature, "RSD PTR ", 8) != 0) {
		acpi_diag(env, "acpi: RSDP at 0x%llx: wrong signature", addr);
		return ACPI_ERR_SIGNATURE;
	}
	if (rsdp->revision >= 2) {
		p = env->map(env->ctx, phys, sizeof(*rsdp));
		if (p)
			memcpy(rsdp, p, sizeof(*rsdp));
		if (p && rsdp->length >= sizeof(*rsdp))
			p = env->map(env->ctx, phys, rsdp->length);
		else
			p = NULL;
		if (!p) {
			acpi_diag(env, "acpi: RSDP at 0x%llx: revision %u RSDP is truncated", addr,
				  rsdp->revision);
			return ACPI_ERR_TRUNCATED;
		}
	}
	/* Both checksums: the ACPI 1.0 one over 20 bytes, the extended one over length. */
	if (!acpi_checksum_ok(p, ACPI_RSDP_V1_LENGTH) ||
	    (rsdp->revision >= 2 && !acpi_checksum_ok(p, rsdp->length))) {
		acpi_diag(env, "acpi: RSDP at 0x%llx: bad checksum", addr);
		return ACPI_ERR_CHECKSUM;
	}
	return 0;
}

/* Walks the XSDT when there is one, else (or when it is unusable) the RSDT. */
static int acpi_walk_roots(const struct acpi_env *env, const struct acpi_rsdp *rsdp,
			   struct acpi_info *out)
{
	int rc;

	if (rsdp->revision < 2 || !rsdp->xsdt_address)
		return acpi_walk_root(env, rsdp->rsdt_address, "RSDT", 4, out);
	rc = acpi_walk_root(env, rsdp->xsdt_address, "XSDT", 8, out);
	if (rc == 0 || !rsdp->rsdt_address)
		return rc;
	/* Linux does the same: a working RSDT beats a broken XSDT. out is still untouched. */
	acpi_diag(env, "acpi: XSDT unusable, falling back to the RSDT");
	return acpi_walk_root(env, rsdp->rsdt_address, "RSDT", 4, out);
}

int acpi_parse(uint64_t rsdp_phys, const struct acpi_env *env, struct acpi_info *out)
{
	struct acpi_rsdp rsdp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!env || !env->map)
		return ACPI_ERR_NO_RSDP;
	rc = acpi_read_rsdp(env, rsdp_phys, &rsdp);
	if (rc == 0)
		rc = acpi_walk_roots(env, &rsdp, out);
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->revision = rsdp.revision;
	memcpy(out->oem_id, rsdp.oem_id, sizeof(rsdp.oem_id));
	out->oem_id[sizeof(rsdp.oem_id)] = '\0';
	if (out->has_fadt && out->dsdt)
		acpi_parse_table(env, out->dsdt, NULL, &acpi_tables[ACPI_ROOT_TABLES], out);
	return 0;
}
