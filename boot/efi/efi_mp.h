/* SPDX-License-Identifier: MIT */
/* EFI_MP_SERVICES_PROTOCOL (UEFI PI spec vol. 2, section 13.4); GNU-EFI lacks it. */
#ifndef TERN_BOOT_EFI_MP_H
#define TERN_BOOT_EFI_MP_H

#include <efi.h>

#define EFI_MP_SERVICES_PROTOCOL_GUID \
	{ 0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } }

#define PROCESSOR_AS_BSP_BIT        0x00000001u
#define PROCESSOR_ENABLED_BIT       0x00000002u
#define PROCESSOR_HEALTH_STATUS_BIT 0x00000004u

typedef struct {
	UINT32 Package;
	UINT32 Core;
	UINT32 Thread;
} EFI_CPU_PHYSICAL_LOCATION;

typedef struct {
	UINT64 ProcessorId; /* the local APIC ID */
	UINT32 StatusFlag;
	EFI_CPU_PHYSICAL_LOCATION Location;
	UINT8 ExtendedInformation[24]; /* PI 1.7 extension; room only */
} EFI_PROCESSOR_INFORMATION;

struct _EFI_MP_SERVICES_PROTOCOL;

typedef EFI_STATUS (EFIAPI *EFI_MP_SERVICES_GET_NUMBER_OF_PROCESSORS)(
	struct _EFI_MP_SERVICES_PROTOCOL *This, UINTN *NumberOfProcessors,
	UINTN *NumberOfEnabledProcessors);
typedef EFI_STATUS (EFIAPI *EFI_MP_SERVICES_GET_PROCESSOR_INFO)(
	struct _EFI_MP_SERVICES_PROTOCOL *This, UINTN ProcessorNumber,
	EFI_PROCESSOR_INFORMATION *ProcessorInfoBuffer);

typedef struct _EFI_MP_SERVICES_PROTOCOL {
	EFI_MP_SERVICES_GET_NUMBER_OF_PROCESSORS GetNumberOfProcessors;
	EFI_MP_SERVICES_GET_PROCESSOR_INFO GetProcessorInfo;
	VOID *StartupAllAPs;
	VOID *StartupThisAP;
	VOID *SwitchBSP;
	VOID *EnableDisableAP;
	VOID *WhoAmI;
} EFI_MP_SERVICES_PROTOCOL;

#endif
